"""The likely-wrong ranking (CROWDLAB) against cleanlab.multiannotator on the real crowd sets."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from bench.bench_label_quality import simulated_model  # ~80 % right, seeded (its docstring)
from consistency.metrics.categorical.label_quality import check_probabilities, label_quality

CROWD = Path(__file__).resolve().parents[3] / "reference" / "crowd"
# trec is left out here only for time (cleanlab takes ~45 s on it); bench/bench_label_quality.py
# compares it too.
SETS = [
    "zhang2014_bluebird",
    "zhang2014_rte",
    "zhang2014_web",
    "zheng2017_d_jn-product",
    "zheng2017_s4_Dog_data",
    "zheng2017_s4_Face_Sentiment_Identification",
]


def _load(name: str):
    answers = pd.read_csv(CROWD / name / "answer.csv", dtype=str).rename(
        columns={"question": "item", "worker": "labeler", "answer": "value"}
    )
    truth = pd.read_csv(CROWD / name / "truth.csv", dtype=str).set_index("question")["truth"]
    return answers, truth


def _cleanlab(answers: pd.DataFrame, probabilities: pd.DataFrame) -> dict:
    from cleanlab.multiannotator import get_label_quality_multiannotator

    classes = list(probabilities.columns)
    codes = answers.assign(code=answers["value"].map({c: i for i, c in enumerate(classes)}))
    wide = codes.pivot_table(index="item", columns="labeler", values="code", aggfunc="first")
    wide = wide.reindex(probabilities.index)
    return get_label_quality_multiannotator(
        wide, probabilities.to_numpy(), consensus_method="majority_vote", verbose=False, return_weights=True
    )


@pytest.mark.parametrize("name", SETS)
def test_scores_equal_cleanlabs_and_rankings_agree_with_concords_consensus(name):
    answers, truth = _load(name)
    probabilities = simulated_model(answers, truth)
    reference = _cleanlab(answers, probabilities)
    scores = reference["label_quality"]["consensus_quality_score"].to_numpy()
    classes = np.asarray(probabilities.columns, dtype=object)
    cleanlab_labels = pd.Series(
        classes[reference["label_quality"]["consensus_label"].to_numpy()], index=probabilities.index
    )

    # Same labels in (cleanlab breaks majority ties with the model): the same numbers out.
    same = label_quality(answers, labels=cleanlab_labels, probabilities=probabilities)
    assert same.items["quality"].reindex(probabilities.index).to_numpy() == pytest.approx(scores, abs=1e-9)
    assert same.model_weight == pytest.approx(reference["model_weight"])
    annotators = reference["annotator_stats"]["annotator_quality"].reindex(same.labelers.index)
    assert same.labelers["quality"].to_numpy() == pytest.approx(annotators.to_numpy(), abs=1e-9, nan_ok=True)

    # Concord's own consensus (a tie is no label): the ranking of the labelled items agrees.
    own = label_quality(answers, probabilities=probabilities).items["quality"].reindex(probabilities.index)
    labelled = own.notna().to_numpy()
    rho = spearmanr(own.to_numpy()[labelled], scores[labelled]).statistic
    assert rho >= 0.99, rho


def test_without_a_model_the_score_is_the_labeler_weighted_vote():
    frame = pd.DataFrame(
        [(i, labeler, "ab"[i % 2]) for i in range(6) for labeler in (1, 2, 3)]
        + [(6, 1, "a"), (6, 2, "a"), (6, 3, "b"), (7, 1, "b"), (7, 2, "b"), (7, 3, "a")],
        columns=["item", "labeler", "value"],
    )
    result = label_quality(frame)
    quality = result.items["quality"]
    assert result.model_weight == 0.0
    assert quality.loc[0] > quality.loc[6] and quality.loc[0] > quality.loc[7]
    # Labeler 3 disagrees on the two split items: lowest weight and quality.
    assert result.labelers["weight"].idxmin() == 3 and result.labelers["quality"].idxmin() == 3


def test_a_confident_model_that_disagrees_pulls_the_score_down():
    frame = pd.DataFrame(
        [(i, labeler, "ab"[i % 2]) for i in range(20) for labeler in (1, 2)],
        columns=["item", "labeler", "value"],
    )
    right = pd.DataFrame({"a": [0.9 if i % 2 == 0 else 0.1 for i in range(20)]})
    right["b"] = 1 - right["a"]
    wrong_on_0 = right.copy()
    wrong_on_0.loc[0] = [0.01, 0.99]
    base = label_quality(frame, probabilities=right).items["quality"]
    pulled = label_quality(frame, probabilities=wrong_on_0).items["quality"]
    assert pulled.loc[0] < base.loc[0] and pulled.idxmin() == 0
    # Items the model did not see are scored from the answers alone.
    partial = label_quality(frame, probabilities=right.iloc[:10]).items["quality"]
    assert partial.notna().all()


@pytest.mark.parametrize(
    ("probabilities", "message"),
    [
        (pd.DataFrame({"a": [0.5], "zebra": [0.5]}), "unknown classes"),
        (pd.DataFrame({"a": [0.5], "b": [0.6]}), "not distributions"),
        (pd.DataFrame({"a": [-0.5], "b": [1.5]}), "not distributions"),
        (pd.DataFrame({"a": [np.nan], "b": [1.0]}), "not distributions"),
    ],
)
def test_bad_probabilities_are_refused(probabilities, message):
    with pytest.raises(ValueError, match=message):
        check_probabilities(probabilities, ["a", "b"])


def test_bad_inputs_are_refused():
    one = pd.DataFrame({"item": [1, 2], "labeler": [1, 1], "value": ["a", "b"]})
    with pytest.raises(ValueError, match="two or more answers"):
        label_quality(one)
    two = pd.DataFrame({"item": [1, 1], "labeler": [1, 2], "value": ["a", "b"]})
    with pytest.raises(ValueError, match="outside the classes"):
        label_quality(two, labels=pd.Series({1: "c"}))
