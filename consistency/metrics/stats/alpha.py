"""Krippendorff's alpha: from value counts at every level of measurement, and with any distance
between values (boxes, transcripts, sets).

``alpha = 1 − D_o / D_e``: the observed disagreement ``D_o`` is the mean distance between two
values given to the same item (each item with ``m_u ≥ 2`` values weighted by 1 / (m_u − 1)), the
expected disagreement ``D_e`` the mean distance between any two of the pairable values.

Reference: Krippendorff, K. (2011). *Computing Krippendorff's Alpha-Reliability*. The published
values of its 4 × 12 example (nominal 0.743, ordinal 0.815, interval 0.849, ratio 0.797) and the
`krippendorff` package's README example (0.691358) are checked in the tests.

Undefined cases: an alpha whose expected disagreement is 0 (every value identical) is ``nan``,
not an error; bad input (no data, fewer than two pairable items, unknown level) raises
``ValueError``.
"""

from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any, Literal, NamedTuple, TypeGuard

import numpy as np
import pandas as pd

from consistency.metrics.arrays import AnyArray, FloatArray, IntArray, ObjectArray
from consistency.metrics.stats.counts import check_counts, coincidences, pairable_weight

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")
#: ``distance(a, b) -> float`` on two values, or on two (p,) object arrays when vectorized.
Distance = Callable[[Any, Any], Any]

#: Default cap on the number of value pairs used to compute D_e in :func:`alpha_from_pairwise`.
MAX_EXPECTED_PAIRS = 200_000


def _is_level(level: str) -> TypeGuard[Level]:
    return level in LEVELS


def check_level(level: str) -> Level:
    """Return ``level`` if it is one of :data:`LEVELS`, else raise ``ValueError``."""
    if not _is_level(level):
        raise ValueError(f"unknown level of measurement {level!r}; use one of {', '.join(LEVELS)}")
    return level


def check_class_values(
    level: str, values: Sequence[float] | AnyArray | None, n_classes: int
) -> FloatArray | None:
    """Validated class values (n_classes,) float array for a level, or None where not needed."""
    if values is None:
        if level in ("interval", "ratio"):
            raise ValueError(f"{level} alpha needs the numeric value of each class (values=...)")
        return None
    v: FloatArray = np.asarray(values, dtype=np.float64)
    if v.shape != (n_classes,):
        raise ValueError(f"values must give one number per class ({n_classes}), got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError("class values must be finite numbers")
    if level == "ordinal" and (np.diff(v) <= 0).any():
        raise ValueError("ordinal alpha needs the classes in increasing order of their values")
    if level == "ratio" and v.min() < 0:
        raise ValueError("ratio alpha needs non-negative class values")
    return v


def distance_matrix(
    level: str,
    n_classes: int,
    values: Sequence[float] | AnyArray | None = None,
    marginals: AnyArray | None = None,
) -> FloatArray:
    """Difference function δ²[c, k] between classes at a level of measurement.

    Parameters
    ----------
    level : "nominal", "ordinal", "interval" or "ratio".
    n_classes : number of classes q.
    values : (q,) numeric value of each class; required for interval and ratio; for ordinal the
        class order is the rank order (values, if given, must increase).
    marginals : (q,) pairable values per class ``n_c``; required for ordinal, whose metric is
        ``(Σ_{g=c..k} n_g − (n_c + n_k) / 2)²``.

    Returns
    -------
    (q, q) float64 array, symmetric, zero diagonal.
    """
    check_level(level)
    v = check_class_values(level, values, n_classes)
    out: FloatArray
    if level == "nominal":
        out = 1.0 - np.eye(n_classes)
        return out
    if level == "ordinal":
        if marginals is None or len(marginals) != n_classes:
            raise ValueError("ordinal alpha needs the class marginals (one per class)")
        middle = np.cumsum(marginals) - np.asarray(marginals, dtype=np.float64) / 2.0
        out = (middle[:, None] - middle[None, :]) ** 2
        return out
    if v is None:  # check_class_values refuses interval and ratio without values
        raise ValueError(f"{level} alpha needs the numeric value of each class (values=...)")
    diff = v[:, None] - v[None, :]
    if level == "interval":
        out = diff**2
        return out
    total = v[:, None] + v[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(total == 0, 0.0, (diff / total) ** 2)
    return out


def alpha_from_coincidences(o: AnyArray, delta: AnyArray) -> float:
    """Alpha from a coincidence matrix and a difference matrix.

    Parameters
    ----------
    o : (q, q) coincidence matrix (see :func:`consistency.metrics.stats.counts.coincidences`).
    delta : (q, q) difference function δ²[c, k] (see :func:`distance_matrix`).

    Returns
    -------
    float; ``nan`` when the expected disagreement is 0.
    """
    o = np.asarray(o, dtype=np.float64)
    delta = np.asarray(delta, dtype=np.float64)
    if o.ndim != 2 or o.shape[0] != o.shape[1] or delta.shape != o.shape:
        raise ValueError(f"need square matrices of one shape, got {o.shape} and {delta.shape}")
    marginals = o.sum(axis=1)
    n = marginals.sum()
    if n < 2:
        raise ValueError("fewer than two pairable values: alpha is undefined")
    observed = float((o * delta).sum())
    expected = float(marginals @ delta @ marginals) / (n - 1.0)
    if expected <= 0:
        return float("nan")
    return float(1.0 - observed / expected)


def alpha(
    counts: AnyArray,
    level: Level = "nominal",
    values: Sequence[float] | None = None,
    *,
    weights: AnyArray | None = None,
) -> float:
    """Krippendorff's alpha from value counts.

    Parameters
    ----------
    counts : (n_items, n_classes) int array of per-item value counts.
    level : "nominal", "ordinal", "interval" or "ratio".
    values : (n_classes,) numeric class values, in class order (interval and ratio need them).
    weights : optional (n_items,) item weights (bootstrap multiplicities).

    Returns
    -------
    float in (−∞, 1]; ``nan`` when every pairable value is the same class.

    Raises
    ------
    ValueError
        Unknown level, missing class values, bad counts, fewer than two pairable items.
    """
    check_level(level)
    counts, checked = check_counts(counts, weights)
    check_class_values(level, values, counts.shape[1])
    if pairable_weight(counts, checked) < 2:
        raise ValueError("fewer than two items have two or more values: alpha is undefined")
    o = coincidences(counts, checked)
    return alpha_from_coincidences(o, distance_matrix(level, counts.shape[1], values, o.sum(axis=1)))


def binary_alpha(positives: AnyArray, totals: AnyArray, weights: AnyArray | None = None) -> FloatArray:
    """Nominal alpha of several yes/no variables at once (one class against the rest).

    For each column k the item's values are ``positives[u, k]`` yeses and
    ``totals[u] − positives[u, k]`` noes; alpha = 1 − (n − 1)·o_yes,no / (n_yes · n_no).

    Parameters
    ----------
    positives : (n_items, k) int array, yes-answers per item and variable.
    totals : (n_items,) int array, answers per item (≥ every positive count).
    weights : optional (n_items,) item weights.

    Returns
    -------
    (k,) float64 array; ``nan`` where a variable is always yes or always no.
    """
    positives = np.asarray(positives)
    totals = np.asarray(totals)
    if positives.ndim != 2 or totals.shape != (positives.shape[0],):
        raise ValueError(
            f"need positives (items, k) and totals (items,), got {positives.shape}, {totals.shape}"
        )
    if (positives < 0).any() or (positives > totals[:, None]).any():
        raise ValueError("positives must lie between 0 and the item's number of answers")
    keep = totals >= 2
    m = totals[keep].astype(np.float64)
    item_w = np.ones_like(m) if weights is None else np.asarray(weights, dtype=np.float64)[keep]
    if item_w.sum() < 2:
        raise ValueError("fewer than two items have two or more values: alpha is undefined")
    p = positives[keep].astype(np.float64)
    w = item_w / (m - 1.0)
    o_yes_no = w @ (p * (m[:, None] - p))
    n_yes = item_w @ p
    n = float(item_w @ m)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = 1.0 - (n - 1.0) * o_yes_no / (n_yes * (n - n_yes))
    out[(n_yes <= 0) | (n_yes >= n)] = np.nan
    return out


class Disagreement(NamedTuple):
    """The two terms of alpha for values with an arbitrary distance.

    Attributes
    ----------
    observed : D_o, mean within-item distance (items weighted as in Krippendorff 2011).
    expected : D_e, mean distance between two pairable values.
    n_values : pairable values (in items with ≥ 2 values).
    n_items : pairable items.
    expected_exact : False when D_e was estimated on a random sample of pairs.
    """

    observed: float
    expected: float
    n_values: int
    n_items: int
    expected_exact: bool

    @property
    def alpha(self) -> float:
        """1 − D_o / D_e (``nan`` when D_e is 0)."""
        return 1.0 - self.observed / self.expected if self.expected > 0 else float("nan")


def _flatten(values_by_item: Sequence[Sequence[Any]] | pd.Series) -> tuple[ObjectArray, IntArray]:
    """(values (n,), item codes (n,)) grouped by item, from lists per item or a long Series."""
    if isinstance(values_by_item, pd.Series):
        codes = np.asarray(pd.factorize(values_by_item.index)[0], dtype=np.int64)
        order = np.argsort(codes, kind="stable")
        values: ObjectArray = values_by_item.to_numpy(dtype=object)[order]
        return values, codes[order]
    sizes = np.fromiter(map(len, values_by_item), dtype=np.int64, count=len(values_by_item))
    flat = np.fromiter(chain.from_iterable(values_by_item), dtype=object, count=int(sizes.sum()))
    return flat, np.repeat(np.arange(len(sizes)), sizes)


def within_item_pairs(item: IntArray) -> tuple[IntArray, IntArray]:
    """All (i < j) index pairs of values sharing an item; ``item`` (n,) sorted codes."""
    n = len(item)
    ends = np.searchsorted(item, item, side="right")  # end of each value's group
    partners = ends - np.arange(n) - 1
    i = np.repeat(np.arange(n), partners)
    offsets = np.arange(len(i)) - np.repeat(np.cumsum(partners) - partners, partners)
    return i, i + offsets + 1


def _distances(distance: Distance, a: ObjectArray, b: ObjectArray, vectorized: bool) -> FloatArray:
    d: FloatArray
    if vectorized:
        d = np.asarray(distance(a, b), dtype=np.float64)
        if d.shape != (len(a),):
            raise ValueError(f"a vectorized distance must return shape ({len(a)},), got {d.shape}")
    else:
        d = np.fromiter((distance(x, y) for x, y in zip(a, b, strict=True)), dtype=np.float64, count=len(a))
    if not np.isfinite(d).all() or (d < 0).any():
        raise ValueError("distances must be finite and non-negative")
    return d


def pairwise_disagreement(
    values_by_item: Sequence[Sequence[Any]] | pd.Series,
    distance: Distance,
    *,
    vectorized: bool = False,
    max_expected_pairs: int = MAX_EXPECTED_PAIRS,
    seed: int = 0,
) -> Disagreement:
    """Observed and expected disagreement of values under any distance.

    Parameters
    ----------
    values_by_item : either a sequence (n_items,) of per-item sequences of values, or a long
        Series (n_values,) of values indexed by item. Items with one value are not pairable.
    distance : ``distance(a, b) -> float ≥ 0``, symmetric, 0 for equal values (the exact D_e
        from distinct values relies on it). With
        ``vectorized=True`` it is called as ``distance(a, b)`` with two object arrays (p,) and
        returns a (p,) float array, which lets numpy or a batched library do the work.
    max_expected_pairs : D_e is exact when the values are hashable and their distinct values form
        at most this many pairs (distances between distinct values, weighted by how often each
        occurs), or when all n·(n−1)/2 pairs of pairable values are at most this many; otherwise
        it is the mean over this many ordered pairs (i ≠ j) drawn uniformly with ``seed``.
        D_o is always exact.
    seed : seed of the D_e sample.

    Returns
    -------
    Disagreement (observed, expected, n_values, n_items, expected_exact); ``.alpha`` is alpha.
    """
    values, item = _flatten(values_by_item)
    if len(values) == 0:
        raise ValueError("no values: nothing to measure")
    sizes = np.bincount(item)
    keep = sizes[item] >= 2
    values, item = values[keep], np.unique(item[keep], return_inverse=True)[1].astype(np.int64)
    sizes = np.bincount(item)
    if len(sizes) < 2:
        raise ValueError("fewer than two items have two or more values: alpha is undefined")
    i, j = within_item_pairs(item)
    d = _distances(distance, values[i], values[j], vectorized)
    n = len(values)
    observed = float(2.0 * (d / (sizes[item[i]] - 1.0)).sum() / n)
    codes: IntArray | None
    uniques: Sequence[Any]
    try:  # hashable values: D_e exactly from the distinct values and how often each occurs
        codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    except TypeError:  # unhashable values (lists of boxes, dicts)
        codes, uniques = None, ()
    distinct_pairs = len(uniques) * (len(uniques) - 1) // 2
    if codes is not None and distinct_pairs <= max_expected_pairs:
        pooled = np.bincount(codes).astype(np.float64)
        distinct = values[np.unique(codes, return_index=True)[1]]  # (P,) object array, code order
        a, b = np.triu_indices(len(uniques), k=1)
        d_ab = _distances(distance, distinct[a], distinct[b], vectorized)
        return Disagreement(
            observed, float(2.0 * (pooled[a] * pooled[b]) @ d_ab / (n * (n - 1.0))), n, len(sizes), True
        )
    exact = n * (n - 1) // 2 <= max_expected_pairs
    if exact:
        a, b = np.triu_indices(n, k=1)
    else:
        rng = np.random.default_rng(seed)
        a = rng.integers(0, n, max_expected_pairs)
        b = rng.integers(0, n - 1, max_expected_pairs)
        b = b + (b >= a)  # uniform over ordered pairs with a ≠ b
    expected = float(_distances(distance, values[a], values[b], vectorized).mean())
    return Disagreement(observed, expected, n, len(sizes), exact)


def alpha_from_pairwise(
    values_by_item: Sequence[Sequence[Any]] | pd.Series,
    distance: Distance,
    *,
    vectorized: bool = False,
    max_expected_pairs: int = MAX_EXPECTED_PAIRS,
    seed: int = 0,
) -> float:
    """Krippendorff's alpha with an arbitrary distance between values (boxes, transcripts, sets).

    Same parameters as :func:`pairwise_disagreement`; returns ``1 − D_o / D_e`` (``nan`` when
    D_e is 0). With the interval distance ``(a − b)²`` it equals interval alpha.
    """
    return pairwise_disagreement(
        values_by_item, distance, vectorized=vectorized, max_expected_pairs=max_expected_pairs, seed=seed
    ).alpha


def alpha_from_distance_matrix(distances: AnyArray, items: Sequence[Any] | AnyArray) -> float:
    """Alpha from precomputed distances between all values (exact, for small data).

    Parameters
    ----------
    distances : (n_values, n_values) symmetric non-negative matrix, zero diagonal.
    items : (n_values,) the item of each value; items with one value are dropped.

    Returns
    -------
    float; ``nan`` when D_e is 0.
    """
    d: FloatArray = np.asarray(distances, dtype=np.float64)
    codes = np.asarray(pd.factorize(pd.Series(items))[0], dtype=np.int64)
    if d.ndim != 2 or d.shape != (len(codes), len(codes)):
        raise ValueError(
            f"distances must be (n_values, n_values) = ({len(codes)}, {len(codes)}), got {d.shape}"
        )
    if not np.isfinite(d).all() or (d < 0).any() or not np.allclose(d, d.T):
        raise ValueError("distances must be finite, non-negative and symmetric")
    sizes = np.bincount(codes)
    keep = sizes[codes] >= 2
    if len(np.unique(codes[keep])) < 2:
        raise ValueError("fewer than two items have two or more values: alpha is undefined")
    d, codes = d[np.ix_(keep, keep)], codes[keep]
    n = len(codes)
    same = codes[:, None] == codes[None, :]
    observed = float((d * same / (sizes[codes][:, None] - 1.0)).sum() / n)
    expected = float((d.sum() - np.trace(d)) / (n * (n - 1.0)))
    return 1.0 - observed / expected if expected > 0 else float("nan")
