"""Anchoring on a model's suggestion, against a from-scratch reference and the normal
approximation of a difference of two proportions."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consistency.metrics.stats.anchoring import anchoring


def _frame(rows):
    return pd.DataFrame(rows, columns=["arm", "model_errors", "model_total", "others_errors", "others_total"])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["shown", "held_out"]),
            st.integers(0, 5),
            st.integers(1, 5),
            st.one_of(st.none(), st.integers(0, 1)),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_rates_are_one_minus_errors_over_total_per_arm(rows):
    frame = _frame(
        [
            (arm, min(e, t), t, np.nan if o is None else o, np.nan if o is None else 1.0)
            for arm, e, t, o in rows
        ]
    )
    result = anchoring(frame, n_boot=0)
    for arm in ("shown", "held_out"):
        mine = [(min(e, t), t, o) for a, e, t, o in rows if a == arm]
        assert result[arm]["n"] == len(mine)
        if mine:
            assert result[arm]["with_model"] == pytest.approx(
                1 - sum(e for e, _, _ in mine) / sum(t for _, t, _ in mine)
            )
        else:
            assert np.isnan(result[arm]["with_model"])
        judged = [o for _, _, o in mine if o is not None]
        assert result[arm]["n_others"] == len(judged)
        if judged:
            assert result[arm]["with_others"] == pytest.approx(1 - sum(judged) / len(judged))
    diff = result["difference"]["with_model"][0]
    expected = result["shown"]["with_model"] - result["held_out"]["with_model"]
    assert diff == pytest.approx(expected, nan_ok=True)


def test_the_interval_of_the_difference_matches_the_normal_approximation():
    rng = np.random.default_rng(1)
    n = 3000
    shown = rng.random(n) < 0.80  # agrees with the model 80% of the time when shown it
    held = rng.random(n) < 0.62
    rows = [("shown", float(not a), 1.0, np.nan, np.nan) for a in shown]
    rows += [("held_out", float(not a), 1.0, np.nan, np.nan) for a in held]
    result = anchoring(_frame(rows), n_boot=2000, seed=3)
    p1, p2 = shown.mean(), held.mean()
    estimate, low, high = result["difference"]["with_model"]
    assert estimate == pytest.approx(p1 - p2)
    half = 1.959964 * np.sqrt(p1 * (1 - p1) / n + p2 * (1 - p2) / n)  # Wald interval
    assert low == pytest.approx(p1 - p2 - half, abs=0.004)
    assert high == pytest.approx(p1 - p2 + half, abs=0.004)
    assert np.isnan(result["difference"]["with_others"][0])


@pytest.mark.parametrize(
    ("frame", "kwargs"),
    [
        (_frame([("both", 0, 1, 0, 1)]), {}),
        (_frame([("shown", 0, 1, 0, 1)]).drop(columns="model_total"), {}),
        (_frame([("shown", 0, 1, 0, 1)]), {"n_boot": -1}),
        (_frame([("shown", 0, 1, 0, 1)]), {"level": 1.5}),
    ],
)
def test_bad_input_is_a_value_error(frame, kwargs):
    with pytest.raises(ValueError):
        anchoring(frame, **kwargs)
