"""Seeded bootstrap intervals over items."""

import numpy as np
import pytest

from consistency.metrics.categorical.agreement import fleiss_kappa, percent_agreement
from consistency.metrics.stats.alpha import alpha
from consistency.metrics.stats.bootstrap import bootstrap_alpha, bootstrap_ci, compress, resample_weights
from consistency.metrics.stats.counts import value_counts
from tests.consistency.metrics.agreement_data import K2011, K2011_CLASSES, frame_from_matrix


def _counts(items: int, labelers: int = 5, classes: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, items)
    answers = np.where(
        rng.random((labelers, items)) < 0.7, truth, rng.integers(0, classes, (labelers, items))
    )
    present = rng.random((labelers, items)) >= 0.2
    flat = (np.arange(items) * classes + answers)[present]
    return np.bincount(flat, minlength=items * classes).reshape(items, classes)


def test_same_seed_same_interval_other_seed_other_interval():
    counts = _counts(2000)
    first = bootstrap_alpha(counts, n_boot=300, seed=11)
    assert bootstrap_alpha(counts, n_boot=300, seed=11) == first
    assert bootstrap_alpha(counts, n_boot=300, seed=12) != first
    assert first.low < first.estimate < first.high
    assert first.estimate == pytest.approx(alpha(counts))
    assert first.n_valid == first.n_boot == 300


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_fast_alpha_path_equals_the_generic_path(level):
    counts = _counts(500, seed=2)
    pairable = counts[counts.sum(axis=1) >= 2]
    values = [1, 2, 3, 4, 5, 6]

    def statistic(c, weights=None):
        return alpha(c, level, values, weights=weights)

    fast = bootstrap_alpha(counts, level, values, n_boot=60, seed=5)
    generic = bootstrap_ci(pairable, statistic, n_boot=60, seed=5)
    assert fast.low == pytest.approx(generic.low) and fast.high == pytest.approx(generic.high)


def test_weighted_and_materialized_resamples_agree():
    counts = _counts(300, seed=3)
    weighted = bootstrap_ci(counts, fleiss_kappa, n_boot=40, seed=1)
    materialized = bootstrap_ci(counts, lambda c: fleiss_kappa(c), n_boot=40, seed=1, weighted=False)
    assert weighted.low == pytest.approx(materialized.low) and weighted.high == pytest.approx(
        materialized.high
    )


def test_both_ways_of_drawing_resamples_are_resamples_of_n_items():
    rng = np.random.default_rng(0)
    few = np.array([500, 300, 200])  # few patterns: multinomial
    inverse = np.repeat(np.arange(3), few)
    block = next(resample_weights(few, inverse, 50, rng))
    assert block.shape == (50, 3) and (block.sum(axis=1) == 1000).all()
    many = np.ones(1000, dtype=np.int64)  # one item per pattern: drawn indices
    block = next(resample_weights(many, np.arange(1000), 20, rng))
    assert block.shape == (20, 1000) and (block.sum(axis=1) == 1000).all()
    assert block.mean() == pytest.approx(1.0)


def test_compress_keeps_every_item():
    counts = np.array([[1, 2], [0, 3], [1, 2], [40, 0]])
    patterns, multiplicity, inverse = compress(counts)
    np.testing.assert_array_equal(patterns[inverse], counts)
    assert multiplicity.sum() == 4
    big = np.array([[10**6, 0, 3] * 10, [10**6, 0, 3] * 10])  # too wide for one int64 key
    patterns, multiplicity, inverse = compress(big)
    assert len(patterns) == 1 and multiplicity.tolist() == [2]


def test_thousand_resamples_on_100k_items_is_fast():
    import time

    counts = _counts(100_000, classes=10)
    started = time.perf_counter()
    result = bootstrap_alpha(counts, n_boot=1000, seed=0)
    assert time.perf_counter() - started < 5  # ~0.3 s on a 2-core machine; generous for CI
    assert result.high - result.low < 0.02


def test_bootstrap_on_krippendorff_2011_contains_the_estimate():
    counts = value_counts(frame_from_matrix(K2011), K2011_CLASSES).counts
    result = bootstrap_ci(counts, percent_agreement, n_boot=500, seed=3)
    assert result.low <= result.estimate <= result.high
    assert result.estimate == pytest.approx(0.8181818, abs=1e-6)


def test_degenerate_resamples_are_left_out():
    counts = np.array([[2, 0], [2, 0], [2, 0], [1, 1]])
    result = bootstrap_alpha(counts, n_boot=200, seed=0)
    assert 0 < result.n_valid < 200  # resamples without item 4 have a single class: alpha is nan


def test_resamples_without_variation_can_count_as_perfect_agreement():
    counts = np.array([[2, 0], [2, 0], [2, 0], [1, 1]])
    left_out = bootstrap_alpha(counts, n_boot=200, seed=0)
    counted = bootstrap_alpha(counts, n_boot=200, seed=0, no_variation=1.0)
    assert counted.n_valid == 200 and counted.high == 1.0 and counted.estimate == left_out.estimate
    assert left_out.high < 1.0
    uniform = bootstrap_alpha(np.array([[2, 0], [3, 0]]), n_boot=50, no_variation=1.0)
    assert (uniform.estimate, uniform.low, uniform.high) == (1.0, 1.0, 1.0)


def test_alpha_interval_on_krippendorff_2011_contains_the_estimate():
    counts = value_counts(frame_from_matrix(K2011), K2011_CLASSES).counts
    result = bootstrap_alpha(counts, n_boot=500, seed=3)
    assert result == bootstrap_alpha(counts, n_boot=500, seed=3)
    assert result.low < result.estimate < result.high
    assert result.estimate == pytest.approx(0.743, abs=5e-4)


def test_bad_arguments_are_refused():
    counts = _counts(50)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_alpha(counts, n_boot=0)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci(counts, fleiss_kappa, confidence=1.5)
    with pytest.raises(ValueError, match="unknown level"):
        bootstrap_alpha(counts, "cardinal")
    with pytest.raises(ValueError, match="fewer than two items"):
        bootstrap_alpha(np.array([[1, 1], [1, 0]]))
