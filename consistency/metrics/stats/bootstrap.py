"""Seeded percentile bootstrap over items for statistics computed from value counts.

A bootstrap resample draws n items with replacement from the n rows of the counts matrix. Rows
with the same counts are interchangeable, so the counts are first compressed to their P
distinct rows ("patterns") with their multiplicities, and a resample is a vector of P pattern
weights (how often each pattern was drawn). Two exact ways to draw it, chosen from the data alone
(so a seed always gives the same interval):

* P small next to n: one multinomial draw over the patterns per resample, O(P);
* otherwise: n uniform item indices per resample, counted with ``np.bincount``, O(n).

Statistics that accept item ``weights`` (every counts function in this package) are evaluated on
the patterns with those weights, without materializing the resampled rows. Alpha goes further:
the coincidence matrix is linear in the weights, so a block of resamples is a few matrix
products (resamples × patterns) @ (patterns × classes).

Proportions get their own two bootstraps (used by HLP): :func:`binomial_interval` resamples each
row's trials (exact for a proportion), :func:`cluster_interval` resamples items (clusters) whose
answers move together.

Reference: Efron & Tibshirani (1993), *An Introduction to the Bootstrap*, percentile interval.
"""

from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from consistency.metrics.arrays import AnyArray, FloatArray, IntArray
from consistency.metrics.stats.alpha import Level, alpha, check_class_values, check_level, distance_matrix
from consistency.metrics.stats.counts import check_counts

#: Elements per block of resample weights (resamples × patterns, or × items when drawing indices).
BLOCK = 1 << 22
#: Resamples and coverage of the HLP intervals unless a caller says otherwise.
DEFAULT_N_BOOT = 1000
DEFAULT_LEVEL = 0.95
_BOOT_CHUNK = 4_000_000  # draws per chunk in the per-row binomial bootstrap (memory bound)


class BootstrapCI(NamedTuple):
    """A statistic with its percentile bootstrap interval.

    Attributes
    ----------
    estimate : the statistic on the full data.
    low, high : interval bounds (``nan`` when no resample gave a finite value).
    n_boot : resamples drawn.
    n_valid : resamples where the statistic was finite (others are left out of the interval).
    """

    estimate: float
    low: float
    high: float
    n_boot: int
    n_valid: int


def compress(counts: AnyArray) -> tuple[IntArray, IntArray, IntArray]:
    """Distinct rows of a counts matrix.

    Parameters
    ----------
    counts : (n_items, n_classes) int array.

    Returns
    -------
    (patterns, multiplicity, inverse): patterns (P, n_classes), multiplicity (P,) int64 with
    ``multiplicity.sum() == n_items``, inverse (n_items,) pattern of each row.
    """
    counts, _ = check_counts(counts)
    counts = counts.astype(np.int64, copy=False)
    base = int(counts.max()) + 1
    if counts.shape[1] * np.log2(base) < 62:  # one int64 key per row: a mixed-radix number
        keys = counts @ (base ** np.arange(counts.shape[1], dtype=np.int64))
        _, first, inverse, multiplicity = np.unique(
            keys, return_index=True, return_inverse=True, return_counts=True
        )
        return counts[first], multiplicity.astype(np.int64, copy=False), inverse.astype(np.int64, copy=False)
    patterns, inverse, multiplicity = np.unique(counts, axis=0, return_inverse=True, return_counts=True)
    return patterns, multiplicity.astype(np.int64, copy=False), inverse.ravel().astype(np.int64, copy=False)


def resample_weights(
    multiplicity: IntArray, inverse: IntArray, n_boot: int, rng: np.random.Generator
) -> Iterator[IntArray]:
    """Pattern weights of ``n_boot`` item resamples, in blocks.

    Parameters
    ----------
    multiplicity : (P,) items per pattern; inverse : (n_items,) pattern of each item.
    n_boot : number of resamples; rng : the seeded generator.

    Yields
    ------
    (block, P) int64 arrays; each row sums to n_items.
    """
    n, p = int(multiplicity.sum()), len(multiplicity)
    use_multinomial = p * 8 <= n
    step = max(1, BLOCK // (p if use_multinomial else n))
    for start in range(0, n_boot, step):  # blocks of resamples, not items
        size = min(step, n_boot - start)
        if use_multinomial:
            yield rng.multinomial(n, multiplicity / n, size=size)
        else:
            drawn = inverse[rng.integers(0, n, size=(size, n))]
            flat = drawn + (np.arange(size) * p)[:, None]
            yield np.bincount(flat.ravel(), minlength=size * p).reshape(size, p)


def _interval(estimate: float, stats: FloatArray, n_boot: int, confidence: float) -> BootstrapCI:
    valid = stats[np.isfinite(stats)]
    if len(valid) == 0:
        return BootstrapCI(float(estimate), float("nan"), float("nan"), n_boot, 0)
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(valid, [tail, 100.0 - tail])
    return BootstrapCI(float(estimate), float(low), float(high), n_boot, len(valid))


def _check_args(n_boot: int, confidence: float) -> None:
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")


def bootstrap_ci(
    counts: AnyArray,
    statistic: Callable[..., Any],
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    weighted: bool = True,
) -> BootstrapCI:
    """Percentile bootstrap interval over items of any statistic of the value counts.

    Parameters
    ----------
    counts : (n_items, n_classes) int array; every row is one item and is resampled as a whole.
    statistic : with ``weighted=True`` (default) called as ``statistic(patterns, weights=w)``
        with patterns (P, n_classes) and w (P,) multiplicities (e.g. :func:`alpha`,
        ``percent_agreement``, ``fleiss_kappa``, ``gwet_ac1``); with ``weighted=False`` called
        as ``statistic(resampled_counts)`` on (n_items, n_classes) rows (slower).
        A ``ValueError`` from a degenerate resample counts it as not valid.
    n_boot : number of resamples; confidence : interval coverage, e.g. 0.95.
    seed : seed of ``numpy.random.default_rng``; the same seed gives the same interval.

    Returns
    -------
    BootstrapCI (estimate, low, high, n_boot, n_valid).
    """
    _check_args(n_boot, confidence)
    counts, _ = check_counts(counts)
    estimate = statistic(counts)
    patterns, multiplicity, inverse = compress(counts)
    rng = np.random.default_rng(seed)
    stats: list[float] = []
    for block in resample_weights(multiplicity, inverse, n_boot, rng):
        for w in block:  # one call per resample; the statistic itself is vectorized
            try:
                stats.append(
                    statistic(patterns, weights=w) if weighted else statistic(np.repeat(patterns, w, axis=0))
                )
            except ValueError:
                stats.append(np.nan)
    return _interval(estimate, np.asarray(stats, dtype=np.float64), n_boot, confidence)


def bootstrap_alpha(
    counts: AnyArray,
    level: Level = "nominal",
    values: Sequence[float] | None = None,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    no_variation: float = float("nan"),
) -> BootstrapCI:
    """Percentile bootstrap interval of Krippendorff's alpha over pairable items.

    Only items with ≥ 2 values carry information for alpha, so the resampled units are the
    pairable items (the others would only change how many pairable items a resample holds).
    Each resample's coincidence matrix is linear in its pattern weights w:
    ``o[c, k] = Σ_p w_p · n_pc · (n_pk − [c = k]) / (m_p − 1)``, so a block of resamples costs one
    (resamples × patterns) @ (patterns × classes) product per class; memory stays
    O(block × patterns + patterns × classes).

    Parameters
    ----------
    counts : (n_items, n_classes) int array of per-item value counts.
    level, values : as in :func:`consistency.metrics.stats.alpha.alpha`.
    n_boot, confidence, seed : as in :func:`bootstrap_ci`.
    no_variation : the alpha given to the data, and to a resample, whose pairable values are
        all the same (expected disagreement 0). By default ``nan``: such resamples are left out
        of the interval; 1.0 counts them as perfect agreement.

    Returns
    -------
    BootstrapCI (estimate, low, high, n_boot, n_valid).
    """
    _check_args(n_boot, confidence)
    check_level(level)
    counts, _ = check_counts(counts)
    estimate = alpha(counts, level, values)  # validates, raises on < 2 pairable items
    if np.isnan(estimate):
        estimate = no_variation
    pairable_rows = counts[counts.sum(axis=1) >= 2]
    patterns, multiplicity, inverse = compress(pairable_rows)
    q = counts.shape[1]
    v = check_class_values(level, values, q)
    n = patterns.astype(np.float64)
    scaled = n / (n.sum(axis=1) - 1.0)[:, None]  # each pattern's values, weighted 1 / (m − 1)
    fixed = None if level == "ordinal" else distance_matrix(level, q, v)
    rng = np.random.default_rng(seed)
    stats: list[FloatArray] = []
    for block in resample_weights(multiplicity, inverse, n_boot, rng):
        w = block.astype(np.float64)
        o = np.empty((len(block), q, q))
        for c in range(q):  # one (resamples × patterns) @ (patterns × classes) product per class
            o[:, c, :] = w @ (scaled[:, c, None] * n)
            o[:, c, c] -= w @ scaled[:, c]
        marg = o.sum(axis=2)
        total = marg.sum(axis=1)
        if fixed is None:  # ordinal: the metric depends on each resample's marginals
            middle = np.cumsum(marg, axis=1) - marg / 2.0
            delta = (middle[:, :, None] - middle[:, None, :]) ** 2
        else:
            delta = np.broadcast_to(fixed, o.shape)
        observed = (o * delta).sum(axis=(1, 2))
        expected = np.einsum("bi,bij,bj->b", marg, delta, marg) / (total - 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            stats.append(np.where(expected > 0, 1.0 - observed / expected, no_variation))
    return _interval(estimate, np.concatenate(stats), n_boot, confidence)


def check_bootstrap(n_boot: int, level: float) -> None:
    """``ValueError`` unless ``n_boot`` is a non-negative integer (0: no interval) and
    ``level`` lies in (0, 1)."""
    if int(n_boot) != n_boot or n_boot < 0:
        raise ValueError(f"n_boot must be a non-negative integer, got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")


def binomial_interval(
    successes: AnyArray, trials: AnyArray, *, n_boot: int, level: float, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Percentile bootstrap of each row's proportion (resampling its trials).

    Parameters
    ----------
    successes, trials : (n_rows,) counts; rows without trials get NaN.

    Returns
    -------
    (low, high), each (n_rows,) float64; all NaN when ``n_boot`` is 0.
    """
    low: FloatArray = np.full(len(trials), np.nan)
    high: FloatArray = np.full(len(trials), np.nan)
    rows = np.flatnonzero(trials > 0)
    if n_boot == 0 or len(rows) == 0:
        return low, high
    tail = (1 - level) / 2 * 100
    step = max(1, _BOOT_CHUNK // n_boot)
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        n = trials[chunk][:, None]
        draws = rng.binomial(
            n.astype(np.int64), (successes[chunk] / trials[chunk])[:, None], size=(len(chunk), n_boot)
        )
        low[chunk], high[chunk] = np.percentile(draws / n, [tail, 100 - tail], axis=1)
    return low, high


def cluster_interval(
    sums: FloatArray, counts: FloatArray, *, n_boot: int, level: float, rng: np.random.Generator
) -> tuple[float, float]:
    """Percentile bootstrap of Σ sums / Σ counts resampling clusters (items) with replacement.

    sums, counts : (n_clusters,) per-cluster totals. Clusters with the same (sum, count) are
    interchangeable, so the resample is a multinomial over the distinct patterns:
    O(patterns × n_boot), whatever the number of items. (NaN, NaN) with ``n_boot`` 0 or fewer
    than two clusters.
    """
    if n_boot == 0 or len(counts) < 2:
        return float("nan"), float("nan")
    patterns, multiplicity = _distinct_pairs(np.asarray(sums), np.asarray(counts))
    draws = rng.multinomial(len(counts), multiplicity / multiplicity.sum(), size=n_boot)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = (draws @ patterns[:, 0]) / (draws @ patterns[:, 1])
    tail = (1 - level) / 2 * 100
    low, high = np.nanpercentile(rates, [tail, 100 - tail])
    return float(low), float(high)


def _distinct_pairs(sums: FloatArray, counts: FloatArray) -> tuple[FloatArray, IntArray]:
    """The distinct (sum, count) rows, sorted as ``np.unique(axis=0)`` sorts them (by sum, then
    count), and how often each occurs: (patterns (P, 2) float64, multiplicity (P,) int64).

    Sums and counts of agreeing answers are small non-negative whole numbers: then one int64
    key per row is sorted (a row-wise unique of floats is ten times slower on a million items).
    """
    rows = np.column_stack([sums, counts]).astype(np.float64, copy=False)
    whole = len(rows) > 0 and bool(np.all((rows >= 0) & (rows < 2**31) & (rows == np.floor(rows))))
    if not whole:
        patterns, multiplicity = np.unique(rows, axis=0, return_counts=True)
        return patterns, multiplicity
    radix = int(rows[:, 1].max()) + 1
    keys = rows[:, 0].astype(np.int64) * radix + rows[:, 1].astype(np.int64)
    unique_keys, multiplicity = np.unique(keys, return_counts=True)
    patterns = np.column_stack([unique_keys // radix, unique_keys % radix]).astype(np.float64)
    return patterns, multiplicity
