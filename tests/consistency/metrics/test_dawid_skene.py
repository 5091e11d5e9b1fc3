"""Consensus on real crowdsourcing data with gold truth (../shared/reference/crowd/)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from consistency.metrics.dawid_skene import DawidSkene, MajorityVote, accuracy, majority_accuracy_fractional

CROWD = Path(__file__).resolve().parents[2] / "reference" / "crowd"  # tests/reference/crowd
SETS = [
    "zheng2017_d_jn-product",
    "zhang2014_bluebird",
    "zhang2014_rte",
    "zhang2014_trec",
    "zhang2014_web",
    "zheng2017_s4_Dog_data",
    "zheng2017_s4_Face_Sentiment_Identification",
]


def load(name: str) -> tuple[pd.DataFrame, pd.Series]:
    folder = CROWD / name
    if not folder.exists():
        pytest.fail(f"reference data missing: {folder}")
    answers = pd.read_csv(folder / "answer.csv").rename(
        columns={"question": "item", "worker": "labeler", "answer": "value"}
    )
    truth = pd.read_csv(folder / "truth.csv").set_index("question")["truth"]
    return answers, truth


@pytest.mark.parametrize(
    ("name", "published"), [("zheng2017_d_jn-product", 0.897), ("zhang2014_bluebird", 0.7593)]
)
def test_majority_vote_reproduces_published_figures(name, published):
    answers, truth = load(name)
    digits = len(str(published).split(".")[1])
    assert round(majority_accuracy_fractional(answers, truth), digits) == published


@pytest.mark.parametrize(
    ("name", "published"), [("zheng2017_d_jn-product", 0.940), ("zhang2014_bluebird", 0.8889)]
)
def test_dawid_skene_reaches_published_figures(name, published):
    answers, truth = load(name)
    digits = len(str(published).split(".")[1])
    assert round(accuracy(DawidSkene().fit_predict(answers), truth), digits) >= published


@pytest.mark.parametrize("name", SETS)
def test_dawid_skene_never_far_below_majority_vote(name):
    answers, truth = load(name)
    ds = accuracy(DawidSkene().fit_predict(answers), truth)
    assert ds >= majority_accuracy_fractional(answers, truth) - 0.01


def test_dawid_skene_1979_class_priors():
    frame = pd.read_csv(CROWD / "ds1979" / "answer_long.csv").rename(
        columns={"patient": "item", "observer": "labeler", "rating": "value"}
    )
    priors = DawidSkene().fit(frame).priors_.to_numpy()
    assert priors == pytest.approx([0.40, 0.42, 0.11, 0.07], abs=0.035)


def test_majority_tie_is_no_consensus_and_counted():
    frame = pd.DataFrame(
        {"item": [1, 1, 2, 2, 2], "labeler": [1, 2, 1, 2, 3], "value": ["a", "b", "a", "a", "b"]}
    )
    vote = MajorityVote().fit(frame)
    assert vote.ties_ == 1
    assert vote.result_.loc[1, "value"] is None and vote.result_.loc[2, "value"] == "a"
    assert vote.result_.loc[2, "confidence"] == pytest.approx(2 / 3)


def test_dawid_skene_downweights_a_bad_labeler():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 300)
    rows = []
    for labeler, reliability in enumerate([0.95, 0.9, 0.55, 0.55, 0.55]):
        answers = np.where(rng.random(300) < reliability, truth, 1 - truth)
        rows += [(i, labeler, int(v)) for i, v in enumerate(answers)]
    frame = pd.DataFrame(rows, columns=["item", "labeler", "value"])
    gold = pd.Series(truth, index=range(300))
    assert accuracy(DawidSkene().fit_predict(frame), gold) > accuracy(MajorityVote().fit_predict(frame), gold)


def test_bad_input():
    with pytest.raises(ValueError, match="empty"):
        DawidSkene().fit(pd.DataFrame(columns=["item", "labeler", "value"]))
    with pytest.raises(ValueError, match="lacks columns"):
        MajorityVote().fit(pd.DataFrame({"item": [1], "value": ["a"]}))
    with pytest.raises(ValueError, match="pseudo-counts"):
        DawidSkene(prior_off_diagonal=0)
