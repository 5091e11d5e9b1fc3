"""The adaptive overlap policy's pure rules: posterior and decision (no database)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consistency.metrics.categorical.dawid_skene import DawidSkene
from consistency.metrics.categorical.labeler_estimates import labeler_estimates
from labeling.adaptive import Estimates, decide, open_item_target, posterior, vote_share

CROWD = Path(__file__).resolve().parents[1] / "reference" / "crowd"


def test_without_estimates_the_posterior_is_the_majority_vote_share():
    assert posterior([(1, "a"), (2, "a"), (3, "b")], None) == ("a", pytest.approx(2 / 3))
    assert posterior([(1, "a"), (2, "b")], None) == (None, 0.5)  # a tie leads nowhere
    assert vote_share([]) == (None, 0.0)


def test_with_estimates_the_posterior_is_dawid_skenes_e_step_on_real_data():
    """Given the fitted matrices, the submit path's posterior equals Dawid–Skene's own
    posterior for every item (bluebird: 108 items × 39 labelers)."""
    frame = pd.read_csv(CROWD / "zhang2014_bluebird" / "answer.csv").rename(
        columns={"question": "item", "worker": "labeler", "answer": "value"}
    )
    fit = DawidSkene().fit(frame)
    k = len(fit.classes_)
    matrices = fit.confusion_.to_numpy().reshape(len(fit.labelers_), k, k)
    estimates = Estimates.from_matrices(
        classes=list(fit.classes_),
        priors=fit.priors_.to_numpy(),
        confusion={int(labeler): matrices[i] for i, labeler in enumerate(fit.labelers_)},
        typical=matrices.mean(axis=0),
    )
    for item, group in frame.groupby("item"):
        leading, p = posterior(list(zip(group["labeler"], group["value"], strict=True)), estimates)
        assert p == pytest.approx(fit.probas_.loc[item].max(), abs=1e-6)
        assert leading == fit.labels_.loc[item]


def test_labelers_without_their_own_estimate_count_as_the_typical_labeler():
    estimates = Estimates.from_matrices(
        classes=["a", "b"],
        priors=[0.5, 0.5],
        confusion={1: [[0.99, 0.01], [0.01, 0.99]]},
        typical=[[0.7, 0.3], [0.3, 0.7]],
    )
    expert = posterior([(1, "a")], estimates)[1]
    stranger = posterior([(2, "a")], estimates)[1]
    assert expert == pytest.approx(0.99) and stranger == pytest.approx(0.7)
    shrunk = Estimates.from_matrices(
        classes=["a", "b"],
        priors=[0.5, 0.5],
        confusion={1: [[0.99, 0.01], [0.01, 0.99]]},
        answers={1: 20},
        typical=[[0.7, 0.3], [0.3, 0.7]],
        shrink=20,
    )
    assert posterior([(1, "a")], shrunk)[1] == pytest.approx((0.99 + 0.7) / 2)
    # An answer outside the classes (an older schema version's) carries no evidence.
    assert posterior([(2, "a"), (3, "gone")], estimates)[1] == pytest.approx(0.7)


def test_gold_calibrates_the_estimates():
    """With gold on every item, a labeler who always answers the wrong class is estimated as
    such, and a correct labeler as reliable."""
    truth = {i: "ab"[i % 2] for i in range(40)}
    rows = [(i, 1, t) for i, t in truth.items()] + [
        (i, 2, "b" if t == "a" else "a") for i, t in truth.items()
    ]
    frame = pd.DataFrame(rows, columns=["item", "labeler", "value"])
    fitted = labeler_estimates(frame, gold=pd.Series(truth, dtype=object), classes=["a", "b"])
    assert fitted.gold_items == 40
    assert fitted.confusion[1][0, 0] > 0.9 and fitted.confusion[2][0, 1] > 0.9
    assert fitted.typical == pytest.approx((fitted.confusion[1] + fitted.confusion[2]) / 2)


def test_bad_estimates_and_settings_are_refused():
    with pytest.raises(ValueError, match="confusion"):
        Estimates.from_matrices(
            classes=["a", "b"], priors=[0.5, 0.5], confusion={1: [[1.0]]}, typical=np.eye(2)
        )
    with pytest.raises(ValueError, match="min_answers"):
        decide(
            target=2,
            answered=2,
            valued=2,
            confidence=0.9,
            min_answers=3,
            max_answers=2,
            target_confidence=0.9,
        )
    with pytest.raises(ValueError, match="target_confidence"):
        decide(
            target=2,
            answered=2,
            valued=2,
            confidence=0.9,
            min_answers=1,
            max_answers=2,
            target_confidence=1.0,
        )


settings = st.fixed_dictionaries(
    {
        "min_answers": st.integers(1, 4),
        "extra": st.integers(0, 4),
        "target_confidence": st.floats(0.51, 0.99),
    }
)


@given(
    settings,
    st.integers(1, 10),
    st.integers(0, 10),
    st.integers(0, 10),
    st.floats(0, 1),
)
def test_a_decision_grows_the_target_by_at_most_one_and_never_past_max(
    s, target, answered, skips, confidence
):
    low, high = s["min_answers"], s["min_answers"] + s["extra"]
    valued = max(0, answered - skips)
    d = decide(
        target=target,
        answered=answered,
        valued=valued,
        confidence=confidence,
        min_answers=low,
        max_answers=high,
        target_confidence=s["target_confidence"],
    )
    assert target <= d.target <= max(target, high)
    assert d.target - target <= 1
    assert d.confident == (valued >= low and confidence >= s["target_confidence"])
    if d.target > target:  # more answers only when every slot is answered and it is unsure
        assert answered >= target and not d.confident
    if d.disagrees_after_max:
        assert target >= high and answered >= target and not d.confident


@given(st.integers(0, 20), st.integers(1, 5), st.integers(0, 5))
def test_open_items_get_min_answers_or_one_more_answer_within_bounds(slots, low, extra):
    high = low + extra
    target = open_item_target(slots_taken=slots, min_answers=low, max_answers=high)
    assert target >= slots
    assert target == max(slots, min(high, max(low, slots + 1)))
    if slots < high:
        assert target > slots  # still open: the policy decides at its next answer
