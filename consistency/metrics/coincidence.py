"""Krippendorff's alpha from per-item value counts, at every level, without materializing pairs.

Everything here starts from a counts matrix ``N`` of shape (n_items, n_classes): ``N[u, c]`` is how
many labelers gave class ``c`` to item ``u``. The coincidence matrix is built with one matrix
product, so memory is O(items × classes) (the `krippendorff` package needs items × classes²).

Reference: Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability.
"""

import contextlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

LEVELS = ("nominal", "ordinal", "interval", "ratio")


def value_counts(frame: pd.DataFrame, classes: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Per-item counts of each class.

    frame : columns ``item``, ``value`` (one row per answer; other columns ignored).
    classes : the ordered class list; a value outside it raises ValueError.
    returns : (items, counts) with items of shape (n_items,) and counts (n_items, n_classes) int64.
    """
    if frame.empty:
        raise ValueError("no answers: the annotations frame is empty")
    missing = {"item", "value"} - set(frame.columns)
    if missing:
        raise ValueError(f"annotations frame lacks columns: {', '.join(sorted(missing))}")
    index = pd.Index(list(classes))
    if index.has_duplicates:
        raise ValueError("class list has duplicates")
    codes = index.get_indexer(frame["value"])
    if (codes < 0).any():
        bad = sorted({str(v) for v in frame["value"][codes < 0]})[:5]
        raise ValueError(f"values outside the schema: {', '.join(bad)}")
    items, item_codes = np.unique(frame["item"].to_numpy(), return_inverse=True)
    flat = item_codes.astype(np.int64) * len(index) + codes
    counts = np.bincount(flat, minlength=len(items) * len(index)).reshape(len(items), len(index))
    return items, counts


def _check_counts(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts)
    if counts.ndim != 2:
        raise ValueError(f"counts must be 2-D (items × classes), got shape {counts.shape}")
    if counts.size and counts.min() < 0:
        raise ValueError("counts cannot be negative")
    return counts


def coincidences(counts: np.ndarray) -> np.ndarray:
    """Coincidence matrix o[c, k] from value counts.

    counts : (n_items, n_classes) int array; items with fewer than two values are ignored.
    returns : (n_classes, n_classes) float array, symmetric; its sum is the number of pairable values.
    """
    counts = _check_counts(counts)
    m = counts.sum(axis=1)
    pairable = m >= 2
    n = counts[pairable].astype(np.float64)
    weight = 1.0 / (m[pairable] - 1.0)
    o = (n * weight[:, None]).T @ n
    o[np.diag_indices_from(o)] -= (n * weight[:, None]).sum(axis=0)
    return o


def distance_matrix(level: str, values: Sequence[float] | None, marginals: np.ndarray) -> np.ndarray:
    """Squared difference function δ²[c, k] for a level (values: the classes' numbers, in order).

    The ordinal metric uses the marginals n_c (Krippendorff 2011, eq. for ordinal data).
    """
    q = len(marginals)
    if level == "nominal":
        return 1.0 - np.eye(q)
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
    if level == "ordinal":
        cumulative = np.cumsum(marginals) - marginals / 2.0
        return (cumulative[:, None] - cumulative[None, :]) ** 2
    if values is None or len(values) != q:
        raise ValueError(f"{level} alpha needs one number per class")
    v = np.asarray(values, dtype=np.float64)
    if level == "interval":
        return (v[:, None] - v[None, :]) ** 2
    total = v[:, None] + v[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total == 0, 0.0, ((v[:, None] - v[None, :]) / total) ** 2)
    return ratio


def alpha_from_coincidences(
    o: np.ndarray, level: str = "nominal", values: Sequence[float] | None = None
) -> float:
    """Krippendorff's alpha from a coincidence matrix (n_classes × n_classes)."""
    marginals = o.sum(axis=1)
    n = marginals.sum()
    if n < 2:
        raise ValueError("fewer than two pairable values: alpha is undefined")
    delta = distance_matrix(level, values, marginals)
    observed = (o * delta).sum()
    expected = (np.outer(marginals, marginals) * delta).sum() / (n - 1)
    if expected == 0:
        return 1.0 if observed == 0 else float("nan")
    return float(1.0 - observed / expected)


def alpha(counts: np.ndarray, level: str = "nominal", values: Sequence[float] | None = None) -> float:
    """Krippendorff's alpha from value counts (n_items × n_classes) at the given level."""
    return alpha_from_coincidences(coincidences(counts), level, values)


def pairable_items(counts: np.ndarray) -> np.ndarray:
    """Boolean mask (n_items,) of items with at least two values."""
    return _check_counts(counts).sum(axis=1) >= 2


def per_class_alpha(counts: np.ndarray) -> np.ndarray:
    """Nominal alpha of each class against the rest (n_classes,), NaN where undefined."""
    counts = _check_counts(counts)
    m = counts.sum(axis=1, keepdims=True)
    out = np.full(counts.shape[1], np.nan)
    for c in range(counts.shape[1]):  # a loop over classes (few), not over items
        binary = np.hstack([counts[:, [c]], m - counts[:, [c]]])
        with contextlib.suppress(ValueError):
            out[c] = alpha(binary)
    return out


def confusion_pairs(counts: np.ndarray) -> np.ndarray:
    """How many labeler pairs gave classes c and k to the same item (c ≠ k); diagonal: agreeing pairs.

    returns : (n_classes, n_classes) int array, symmetric.
    """
    counts = _check_counts(counts).astype(np.int64)
    pairs = counts.T @ counts
    pairs[np.diag_indices_from(pairs)] = (counts * (counts - 1) // 2).sum(axis=0)
    return pairs


def merge_counts(counts: np.ndarray, groups: Sequence[Sequence[int]]) -> np.ndarray:
    """Counts after merging each group of class indices into one class (first index keeps it).

    returns : (n_items, n_classes − merged) array; column order follows the first member.
    """
    counts = _check_counts(counts)
    keep = list(range(counts.shape[1]))
    merged = counts.copy()
    for group in groups:
        group = sorted(set(group))
        if len(group) < 2:
            raise ValueError("a merge needs at least two classes")
        merged[:, group[0]] = merged[:, group].sum(axis=1)
        for index in group[1:]:
            keep.remove(index)
    return merged[:, keep]


def bootstrap_alpha(
    counts: np.ndarray,
    level: str = "nominal",
    values: Sequence[float] | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of alpha over items (resampled with replacement).

    Items sharing a count pattern contribute identically, so resampling is a multinomial over
    the distinct patterns: cost O(n_boot × patterns × classes²), not O(n_boot × items).
    returns : (low, high); NaNs when fewer than two pairable items.
    """
    counts = _check_counts(counts)[pairable_items(counts)]
    if len(counts) < 2 or n_boot <= 0:
        return (float("nan"), float("nan"))
    patterns, multiplicity = np.unique(counts, axis=0, return_counts=True)
    m = patterns.sum(axis=1).astype(np.float64)
    n = patterns.astype(np.float64)
    # Per-pattern coincidence contributions, flattened: (patterns, classes²).
    contrib = np.einsum("pc,pk->pck", n, n) / (m - 1)[:, None, None]
    idx = np.arange(n.shape[1])
    contrib[:, idx, idx] -= n / (m - 1)[:, None]
    flat = contrib.reshape(len(patterns), -1)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(counts), multiplicity / multiplicity.sum(), size=n_boot)
    stats = []
    q = n.shape[1]
    for o in (draws @ flat).reshape(n_boot, q, q):
        try:
            stats.append(alpha_from_coincidences(o, level, values))
        except ValueError:
            continue
    stats = np.asarray([s for s in stats if np.isfinite(s)])
    if not len(stats):
        return (float("nan"), float("nan"))
    tail = (1 - ci) / 2 * 100
    low, high = np.percentile(stats, [tail, 100 - tail])
    return (float(low), float(high))
