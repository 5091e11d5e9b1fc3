"""Majority vote, Dawid–Skene, the gold override and input validation (no database)."""

import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from consistency.metrics.categorical.consensus import (
    RESULT_COLUMNS,
    MajorityVote,
    accuracy,
    apply_gold,
    majority_from_counts,
    majority_vote_accuracy,
    top_two,
)
from consistency.metrics.categorical.dawid_skene import DawidSkene
from consistency.metrics.frames import encode
from tests.consistency.metrics.agreement_data import ROOT

# item 1: a, a, b → a (2/3)   item 2: a, b → tie   item 3: c → c (1/1)
SMALL = pd.DataFrame(
    {
        "item": [1, 1, 1, 2, 2, 3],
        "labeler": ["x", "y", "z", "x", "y", "z"],
        "value": ["a", "a", "b", "a", "b", "c"],
    }
)


def synthetic(n_items: int, per_item: int, n_labelers: int, n_classes: int, seed: int):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_items)
    reliability = rng.uniform(0.55, 0.95, n_labelers)
    item = np.repeat(np.arange(n_items), per_item)
    labeler = rng.integers(0, n_labelers, len(item))
    correct = rng.random(len(item)) < reliability[labeler]
    value = np.where(correct, truth[item], rng.integers(0, n_classes, len(item)))
    return pd.DataFrame({"item": item, "labeler": labeler, "value": value}), pd.Series(truth)


def test_metrics_do_not_import_django():
    code = (
        "import sys, consistency.metrics.frames, consistency.metrics.categorical.consensus, "
        "consistency.metrics.categorical.dawid_skene, consistency.metrics.categorical.hlp; "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'django']"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


def test_majority_vote_tie_gives_no_consensus_and_is_counted():
    vote = MajorityVote().fit(SMALL)
    assert vote.ties_ == 1
    assert vote.labels_.to_dict() == {1: "a", 2: None, 3: "c"}
    result = vote.result_
    assert tuple(result.columns) == RESULT_COLUMNS and result.index.name == "item"
    assert result.loc[1, "confidence"] == pytest.approx(2 / 3)
    assert result.loc[2, "tie"] and result.loc[2, "confidence"] == pytest.approx(0.5)
    assert result["n_answers"].tolist() == [3, 2, 1]
    assert (result["method"] == "majority_vote").all()
    assert vote.probas_.loc[1].tolist() == pytest.approx([2 / 3, 1 / 3, 0])


def test_majority_vote_tie_rule_is_deterministic_not_random():
    shuffled = SMALL.sample(frac=1, random_state=3)
    for _ in range(5):
        assert MajorityVote().fit_predict(shuffled).to_dict() == {1: "a", 2: None, 3: "c"}


def test_majority_from_counts_handles_ties_and_empty_rows():
    winner, share, tie = majority_from_counts(np.array([[2, 1, 0], [1, 1, 0], [0, 0, 0]]))
    assert winner.tolist() == [0, -1, -1]
    assert tie.tolist() == [False, True, False]
    assert share[0] == pytest.approx(2 / 3) and np.isnan(share[2])
    with pytest.raises(ValueError, match="2-D"):
        majority_from_counts(np.array([1, 2]))


def test_top_two_classes_per_item_are_deterministic():
    counts = np.array([[2, 1, 0], [1, 1, 0], [0, 0, 0], [0, 3, 0]])
    first, second = top_two(counts)
    assert first.tolist() == [0, 0, -1, 1] and second.tolist() == [1, 1, -1, -1]
    first, second = top_two(np.array([[2], [0]]))
    assert first.tolist() == [0, -1] and second.tolist() == [-1, -1]
    with pytest.raises(ValueError, match="2-D"):
        top_two(np.array([1, 2]))


def test_fractional_tie_scoring_gives_one_over_k_credit():
    gold = pd.Series({1: "a", 2: "b", 3: "a"})
    # item 1 right (1), item 2 tie a/b with truth b (1/2), item 3 wrong (0)
    assert majority_vote_accuracy(SMALL, gold) == pytest.approx(1.5 / 3)
    assert majority_vote_accuracy(SMALL, gold, ties="wrong") == pytest.approx(1 / 3)
    # a gold item nobody answered counts as wrong
    assert majority_vote_accuracy(SMALL, pd.Series({1: "a", 99: "a"})) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="ties"):
        majority_vote_accuracy(SMALL, gold, ties="random")


def test_accuracy_counts_missing_predictions_as_wrong():
    assert accuracy(pd.Series({1: "a", 2: None}), pd.Series({1: "a", 2: "b", 3: "c"})) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="no gold"):
        accuracy(pd.Series({1: "a"}), pd.Series(dtype=object))


def test_gold_overrides_any_aggregate():
    gold = pd.Series({2: "b", 3: "a", 7: "c"})
    result = MajorityVote().fit_predict_frame(SMALL, gold=gold)
    assert result.loc[2, "consensus"] == "b" and result.loc[3, "consensus"] == "a"
    assert (result.loc[[2, 3, 7], "method"] == "gold").all()
    assert (result.loc[[2, 3, 7], "confidence"] == 1.0).all()
    assert not result.loc[[2, 3, 7], "tie"].any()
    assert result.loc[7, "n_answers"] == 0  # gold on an item nobody answered still counts
    assert result.loc[1, "method"] == "majority_vote" and result.loc[1, "consensus"] == "a"
    # apply_gold leaves its input alone
    plain = MajorityVote().fit(SMALL).result_
    apply_gold(plain, gold)
    assert plain.loc[2, "consensus"] is None
    with pytest.raises(ValueError, match="consensus frame"):
        apply_gold(pd.DataFrame({"x": [1]}), gold)


def test_dawid_skene_gold_clamps_posteriors_and_overrides():
    frame, truth = synthetic(400, 3, 20, 3, seed=4)
    gold = truth.iloc[:50]
    model = DawidSkene()
    result = model.fit_predict_frame(frame, gold=gold)
    assert (result.loc[gold.index, "method"] == "gold").all()
    assert (result.loc[gold.index, "consensus"].to_numpy() == gold.to_numpy()).all()
    assert model.probas_.loc[gold.index].max(axis=1).to_numpy() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="outside the answered classes"):
        DawidSkene().fit(frame, gold=pd.Series({0: 99}))


def test_dawid_skene_downweights_unreliable_labelers():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 300)
    rows = []
    for labeler, reliability in enumerate([0.95, 0.9, 0.55, 0.55, 0.55]):
        answers = np.where(rng.random(300) < reliability, truth, 1 - truth)
        rows += [(item, labeler, int(value)) for item, value in enumerate(answers)]
    frame = pd.DataFrame(rows, columns=["item", "labeler", "value"])
    gold = pd.Series(truth)
    model = DawidSkene().fit(frame)
    assert accuracy(model.labels_, gold) > accuracy(MajorityVote().fit_predict(frame), gold) + 0.03
    diagonal = model.confusion_.groupby(level="labeler").apply(lambda m: np.diag(m.to_numpy()).mean())
    assert diagonal.loc[0] > 0.9 and diagonal.loc[4] < 0.65
    assert model.confusion_.sum(axis=1).to_numpy() == pytest.approx(1.0)
    assert model.probas_.sum(axis=1).to_numpy() == pytest.approx(1.0)


def test_dawid_skene_result_frame_and_exact_tie():
    # Two labelers, symmetric answers: every posterior is an exact tie → no consensus.
    frame = pd.DataFrame({"item": [1, 1], "labeler": ["x", "y"], "value": ["a", "b"]})
    model = DawidSkene().fit(frame)
    assert model.ties_ == 1 and model.labels_.loc[1] is None
    result = DawidSkene().fit_predict_frame(SMALL)
    assert tuple(result.columns) == RESULT_COLUMNS and (result["method"] == "dawid_skene").all()
    assert result.loc[1, "consensus"] == "a" and 0.5 < result.loc[1, "confidence"] <= 1


def test_pooled_prior_keeps_dawid_skene_at_majority_level_on_very_sparse_labelers():
    # 3 answers per item from 2,000 labelers with ~4.5 answers each (module docstring).
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 3000)
    reliability = rng.uniform(0.45, 0.95, 2000)
    item = np.repeat(np.arange(3000), 3)
    labeler = rng.integers(0, 2000, len(item))
    value = np.where(rng.random(len(item)) < reliability[labeler], truth[item], rng.integers(0, 3, len(item)))
    frame, gold = pd.DataFrame({"item": item, "labeler": labeler, "value": value}), pd.Series(truth)
    majority = majority_vote_accuracy(frame, gold)
    assert accuracy(DawidSkene(pooled_prior=10).fit_predict(frame), gold) >= majority - 0.01
    assert accuracy(DawidSkene().fit_predict(frame), gold) < majority - 0.05  # the documented limit


def test_dawid_skene_iteration_cap_and_tolerance():
    frame, _ = synthetic(2000, 5, 50, 4, seed=1)
    capped = DawidSkene(max_iter=3, tol=0).fit(frame)
    assert capped.n_iter_ == 3 and not capped.converged_
    converged = DawidSkene().fit(frame)
    assert converged.converged_ and converged.n_iter_ < 100


def test_consensus_on_a_million_answers_is_fast():
    frame, truth = synthetic(200_000, 5, 500, 5, seed=0)
    started = time.perf_counter()
    vote = MajorityVote().fit(frame)
    mv_seconds = time.perf_counter() - started
    started = time.perf_counter()
    model = DawidSkene(max_iter=20, tol=0).fit(frame)
    ds_seconds = time.perf_counter() - started
    assert mv_seconds < 1.0
    assert ds_seconds < 5.0  # 20 iterations; the benchmark times 100
    assert accuracy(model.labels_, truth) > accuracy(vote.labels_, truth)


@pytest.mark.parametrize("aggregator", [MajorityVote, DawidSkene])
def test_bad_input_raises_value_error(aggregator):
    with pytest.raises(ValueError, match="empty"):
        aggregator().fit(pd.DataFrame(columns=["item", "labeler", "value"]))
    with pytest.raises(ValueError, match="lacks columns: labeler"):
        aggregator().fit(pd.DataFrame({"item": [1], "value": ["a"]}))
    with pytest.raises(ValueError, match="DataFrame"):
        aggregator().fit([{"item": 1, "labeler": 1, "value": "a"}])
    with pytest.raises(ValueError, match="value"):
        aggregator().fit(pd.DataFrame({"item": [1, 1], "labeler": [1, 2], "value": ["a", None]}))
    with pytest.raises(ValueError, match="labeler"):
        aggregator().fit(pd.DataFrame({"item": [1, 1], "labeler": [1, None], "value": ["a", "b"]}))
    with pytest.raises(ValueError, match="hashable"):
        aggregator().fit(pd.DataFrame({"item": [1], "labeler": [1], "value": [["a"]]}))
    with pytest.raises(ValueError, match="outside the given classes"):
        aggregator(classes=["a"]).fit(SMALL)


def test_dawid_skene_rejects_bad_parameters():
    for kwargs in (
        {"max_iter": 0},
        {"tol": -1},
        {"confusion_prior": -0.1},
        {"class_prior": -1},
        {"pooled_prior": -1},
    ):
        with pytest.raises(ValueError):
            DawidSkene(**kwargs)


def test_encode_keeps_a_given_class_order_and_unanswered_classes():
    encoded = encode(SMALL, classes=["c", "b", "a", "unused"])
    assert list(encoded.classes) == ["c", "b", "a", "unused"]
    assert encoded.counts()[0].tolist() == [0, 1, 2, 0]
    vote = MajorityVote(classes=["c", "b", "a", "unused"]).fit(SMALL)
    assert list(vote.probas_.columns) == ["c", "b", "a", "unused"]
    with pytest.raises(ValueError, match="needs answers from at least 2 labelers"):
        encode(SMALL[SMALL["labeler"] == "x"], min_labelers=2)
