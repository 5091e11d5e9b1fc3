"""Krippendorff's alpha against published values and the `krippendorff` package."""

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from consistency.metrics.stats.alpha import (
    alpha,
    alpha_from_coincidences,
    alpha_from_distance_matrix,
    alpha_from_pairwise,
    binary_alpha,
    distance_matrix,
    pairwise_disagreement,
)
from consistency.metrics.stats.counts import coincidences, value_counts
from tests.consistency.metrics.agreement_data import (
    K2011,
    K2011_CLASSES,
    README_3X15,
    frame_from_matrix,
    reliability_matrix,
)


@pytest.fixture
def k2011_counts():
    return value_counts(frame_from_matrix(K2011), K2011_CLASSES).counts


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_reproduces_krippendorff_2011(k2011_counts, level, published):
    assert alpha(k2011_counts, level, K2011_CLASSES) == pytest.approx(published, abs=5e-4)


def test_reproduces_the_krippendorff_package_readme_example():
    counts = value_counts(frame_from_matrix(README_3X15), [1, 2, 3, 4]).counts
    assert alpha(counts) == pytest.approx(0.691358, abs=1e-6)


def test_ordinal_needs_no_values_but_checks_their_order(k2011_counts):
    assert alpha(k2011_counts, "ordinal") == pytest.approx(alpha(k2011_counts, "ordinal", K2011_CLASSES))
    with pytest.raises(ValueError, match="increasing"):
        alpha(k2011_counts, "ordinal", [5, 4, 3, 2, 1])


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_equals_the_package_fed_value_counts(k2011_counts, level):
    expected = krippendorff.alpha(
        value_counts=k2011_counts, value_domain=K2011_CLASSES, level_of_measurement=level
    )
    assert alpha(k2011_counts, level, K2011_CLASSES) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(
    matrix=st.integers(2, 5).flatmap(
        lambda q: st.tuples(
            st.just(q),
            arrays(
                np.int8, st.tuples(st.integers(2, 6), st.integers(2, 25)), elements=st.integers(-1, q - 1)
            ),
        )
    )
)
def test_matches_the_krippendorff_package_on_random_data(matrix):
    q, table = matrix  # labelers × items; -1 = missing
    values = list(range(1, q + 1))  # 1..q so the ratio metric never sees 0 + 0
    data = np.where(table < 0, np.nan, table + 1.0)
    counts = np.stack([(table == c).sum(axis=0) for c in range(q)], axis=1)
    m = counts.sum(axis=1)
    assume((m >= 2).sum() >= 2)
    pooled = counts[m >= 2].sum(axis=0)
    assume((pooled > 0).sum() >= 2)  # the package refuses data with a single value
    for level in ("nominal", "ordinal", "interval", "ratio"):
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level, value_domain=values)
        assert alpha(counts, level, values) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_alpha_with_one_class_everywhere_is_nan():
    assert np.isnan(alpha(np.array([[2, 0], [3, 0]])))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: alpha(c, "cardinal"), "unknown level"),
        (lambda c: alpha(c, "interval"), "needs the numeric value"),
        (lambda c: alpha(c, "interval", [1, 2]), "one number per class"),
        (lambda c: alpha(c, "ratio", [-1, 2, 3, 4, 5]), "non-negative"),
        (lambda c: alpha(c[[0, 11]]), "fewer than two items"),
        (lambda c: alpha(c[:0]), "no data"),
    ],
)
def test_bad_input_says_what_is_wrong(k2011_counts, call, message):
    with pytest.raises(ValueError, match=message):
        call(k2011_counts)


def test_alpha_from_coincidences_needs_matching_shapes():
    with pytest.raises(ValueError, match="square"):
        alpha_from_coincidences(np.eye(3), np.eye(2))


def test_binary_alpha_equals_alpha_on_two_columns(k2011_counts):
    m = k2011_counts.sum(axis=1)
    vectorized = binary_alpha(k2011_counts, m)
    one_by_one = [alpha(np.stack([k2011_counts[:, c], m - k2011_counts[:, c]], axis=1)) for c in range(5)]
    np.testing.assert_allclose(vectorized, one_by_one)
    weights = np.arange(1, 13)
    np.testing.assert_allclose(
        binary_alpha(k2011_counts, m, weights),
        binary_alpha(np.repeat(k2011_counts, weights, 0), np.repeat(m, weights)),
    )


def _long_k2011() -> pd.Series:
    frame = frame_from_matrix(K2011)
    return pd.Series(frame["value"].to_numpy(), index=frame["item"].to_numpy())


def test_pairwise_alpha_with_textbook_distances_equals_the_level():
    values = _long_k2011()
    interval = alpha_from_pairwise(
        values, lambda a, b: (a.astype(float) - b.astype(float)) ** 2, vectorized=True
    )
    nominal = alpha_from_pairwise(values, lambda a, b: float(a != b))
    assert interval == pytest.approx(0.849, abs=5e-4)
    assert nominal == pytest.approx(0.743, abs=5e-4)


def test_pairwise_alpha_accepts_lists_per_item():
    by_item = [[v for v in column if v is not None] for column in zip(*K2011, strict=True)]
    assert alpha_from_pairwise(by_item, lambda a, b: float(a != b)) == pytest.approx(0.743421, abs=1e-6)


def test_pairwise_alpha_estimates_expected_disagreement_on_a_seeded_sample():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, 400)
    labels = [[t, t if rng.random() < 0.8 else rng.integers(0, 4), rng.integers(0, 4)] for t in truth]
    boxed = [[[v] for v in item] for item in labels]  # unhashable values: no distinct-value shortcut

    def differ(a, b):
        return float(a != b)

    from_distinct = pairwise_disagreement(labels, differ, max_expected_pairs=100)
    all_pairs = pairwise_disagreement(boxed, differ, max_expected_pairs=10**6)
    sampled = pairwise_disagreement(boxed, differ, max_expected_pairs=20_000, seed=1)
    assert from_distinct.expected_exact and all_pairs.expected_exact and not sampled.expected_exact
    assert from_distinct.expected == pytest.approx(all_pairs.expected)
    assert from_distinct.alpha == pytest.approx(
        alpha(np.stack([np.bincount(x, minlength=4) for x in labels]))
    )
    assert sampled.observed == all_pairs.observed
    assert sampled.alpha == pytest.approx(all_pairs.alpha, abs=0.02)
    assert pairwise_disagreement(boxed, differ, max_expected_pairs=20_000, seed=1) == sampled


def test_pairwise_alpha_refuses_bad_distances_and_data():
    by_item = [[1, 2], [3, 4]]
    with pytest.raises(ValueError, match="non-negative"):
        alpha_from_pairwise(by_item, lambda a, b: -1.0)
    with pytest.raises(ValueError, match="shape"):
        alpha_from_pairwise(by_item, lambda a, b: np.zeros(1), vectorized=True)
    with pytest.raises(ValueError, match="fewer than two items"):
        alpha_from_pairwise([[1, 2], [3]], lambda a, b: 1.0)
    with pytest.raises(ValueError, match="no values"):
        alpha_from_pairwise([], lambda a, b: 1.0)


def test_alpha_from_a_full_distance_matrix():
    values = _long_k2011()
    v = values.to_numpy(dtype=float)
    assert alpha_from_distance_matrix((v[:, None] - v[None, :]) ** 2, values.index) == pytest.approx(
        0.8491071, abs=1e-6
    )
    with pytest.raises(ValueError, match="symmetric"):
        alpha_from_distance_matrix(np.triu(np.ones((len(v), len(v)))), values.index)


def test_ordinal_metric_follows_krippendorff_2011(k2011_counts):
    marginals = coincidences(k2011_counts).sum(axis=1)  # 9, 13, 10, 5, 3
    delta = distance_matrix("ordinal", 5, marginals=marginals)
    # δ²(1, 3) = (9/2 + 13 + 10/2)² = 22.5²
    assert delta[0, 2] == pytest.approx(22.5**2)
    assert np.allclose(delta, delta.T) and np.all(np.diag(delta) == 0)


def test_package_reference_matrix_helper_is_consistent():
    data = reliability_matrix(README_3X15)
    assert krippendorff.alpha(reliability_data=data, level_of_measurement="nominal") == pytest.approx(
        0.691358, abs=1e-6
    )


def test_pairwise_alpha_keeps_tuple_values_whole():
    points = [[(0, 0), (0, 1)], [(5, 5), (5, 5), (6, 5)], [(2, 2), (2, 3)]]

    def euclid(a, b):
        return float(np.hypot(a[0] - b[0], a[1] - b[1]))

    hashable = pairwise_disagreement(points, euclid)
    as_lists = pairwise_disagreement([[list(p) for p in item] for item in points], euclid)
    assert hashable.n_values == 7 and hashable.n_items == 3
    assert hashable.observed == pytest.approx(as_lists.observed)
    assert hashable.expected == pytest.approx(as_lists.expected)
