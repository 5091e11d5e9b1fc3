"""Per-item value counts and the coincidence matrix: the sufficient statistics of categorical
agreement.

An *annotations frame* is a ``pandas.DataFrame`` with one row per answer and the columns
``item``, ``labeler`` and ``value`` (other columns are ignored). Every categorical coefficient in
this package (Krippendorff's alpha, percent agreement, Fleiss' kappa, Gwet's AC1, per-class
agreement, merge what-ifs) is a function of the *value counts* ``N`` of shape
(n_items, n_classes), where ``N[u, c]`` is how many answers gave class ``c`` to item ``u``. An SQL
``GROUP BY item, value`` produces exactly this matrix, so large projects never need to ship
single answers into Python.

The coincidence matrix (Krippendorff 2011) is built from ``N`` with matrix products over chunks of
items: extra memory is O(chunk × classes) and the result is (n_classes × n_classes). The
`krippendorff` package materializes an (items × classes × classes) array instead (2.5 GB at
1M items × 10 classes).

Optional per-item ``weights`` (n_items,) multiply each item's contribution; an integer weight k
means "this item appears k times". The bootstrap uses them to resample items without copying
rows.
"""

from collections.abc import Hashable, Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from consistency.metrics.arrays import AnyArray, BoolArray, FloatArray, IntArray, row_sum
from consistency.metrics.frames import check_frame, factorize, index_of

#: Items per block in :func:`coincidences`; bounds the temporary (block × classes) arrays.
CHUNK_ITEMS = 1 << 18


class ItemCounts(NamedTuple):
    """Value counts of an annotations frame.

    Attributes
    ----------
    items : (n_items,) array, the distinct items, sorted when they sort.
    counts : (n_items, n_classes) int64 array; ``counts[u, c]`` answers gave class ``c`` to
        ``items[u]``; columns follow the class list given to :func:`value_counts`.
    """

    items: AnyArray
    counts: IntArray


def class_codes(values: pd.Series | AnyArray | Sequence[Hashable], classes: Sequence[Hashable]) -> IntArray:
    """Position of each value in the ordered class list.

    Parameters
    ----------
    values : (n_answers,) class labels (str, int, ...).
    classes : ordered list of the n_classes allowed labels, without duplicates.

    Returns
    -------
    (n_answers,) int64 array of codes in ``0 .. n_classes − 1``.

    Raises
    ------
    ValueError
        If the class list is empty or has duplicates, or a value is not in it (a missing value
        is reported as such: drop skipped answers first).
    """
    index = pd.Index(list(classes))
    if len(index) == 0:
        raise ValueError("the class list is empty")
    if index.has_duplicates:
        dupes = sorted({str(c) for c in index[index.duplicated()]})
        raise ValueError(f"the class list has duplicates: {', '.join(dupes)}")
    values = pd.Series(values) if not isinstance(values, pd.Series) else values
    codes = index_of(index, values)
    bad = codes < 0
    if bad.any():
        outside = values[bad]
        if outside.isna().any():
            raise ValueError("some answers have no value (None/NaN): drop skipped answers first")
        shown = sorted({repr(v) for v in outside.iloc[:1000]})[:5]
        raise ValueError(
            f"{int(bad.sum())} answer(s) have values outside the schema's class list, e.g. {', '.join(shown)}"
        )
    return codes


def value_counts(frame: pd.DataFrame, classes: Sequence[Hashable], *, min_labelers: int = 2) -> ItemCounts:
    """Per-item counts of each class from an annotations frame.

    Every row is one value: a labeler who answered an item twice contributes two values (pass
    one answer per labeler and item for textbook alpha).

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (n_answers rows).
    classes : the ordered class list (n_classes,); a value outside it raises ``ValueError``.
    min_labelers : at least this many distinct labelers must appear (agreement needs two).

    Returns
    -------
    ItemCounts
        ``items`` (n_items,) sorted when sortable, ``counts`` (n_items, n_classes) int64.
    """
    # Missing values are left to class_codes, which says "drop skipped answers first".
    check_frame(frame, min_labelers=min_labelers, allow_missing_values=True)
    classes = list(classes)
    codes = class_codes(frame["value"], classes)
    item_codes, items = factorize(frame["item"])
    q = len(classes)
    flat = item_codes * q + codes
    counts: IntArray = np.bincount(flat, minlength=len(items) * q).reshape(len(items), q)
    return ItemCounts(items=np.asarray(items), counts=counts)


def check_counts(counts: AnyArray, weights: AnyArray | None = None) -> tuple[AnyArray, FloatArray | None]:
    """Validate value counts (and optional item weights); return them as arrays.

    Parameters
    ----------
    counts : (n_items, n_classes) non-negative integers (an integral float array is accepted).
    weights : optional (n_items,) non-negative finite item weights.

    Returns
    -------
    (counts, weights) as numpy arrays (weights stays None when not given).
    """
    counts = np.asarray(counts)
    if counts.ndim != 2:
        raise ValueError(f"counts must be 2-D (items × classes), got shape {counts.shape}")
    if counts.shape[0] == 0 or counts.shape[1] == 0:
        raise ValueError(f"no data: counts has shape {counts.shape}")
    whole = counts.dtype.kind in "iub" or (
        counts.dtype.kind == "f" and np.isfinite(counts).all() and (counts == np.round(counts)).all()
    )
    if not whole:
        raise ValueError("counts must be whole numbers of answers")
    if counts.min() < 0:
        raise ValueError("counts cannot be negative")
    if weights is None:
        return counts, None
    checked: FloatArray = np.asarray(weights, dtype=np.float64)
    if checked.shape != (counts.shape[0],):
        raise ValueError(f"weights must have shape ({counts.shape[0]},), got {checked.shape}")
    if not np.isfinite(checked).all() or checked.min() < 0:
        raise ValueError("weights must be finite and non-negative")
    return counts, checked


def pairable(counts: AnyArray) -> BoolArray:
    """Boolean mask (n_items,) of the items with at least two values (the only ones alpha uses)."""
    counts, _ = check_counts(counts)
    mask: BoolArray = row_sum(counts) >= 2
    return mask


def coincidences(counts: AnyArray, weights: AnyArray | None = None) -> FloatArray:
    """Coincidence matrix o[c, k] from value counts (Krippendorff 2011).

    ``o[c, k] = Σ_u w_u · (N[u, c] · N[u, k] − [c = k] · N[u, c]) / (m_u − 1)`` over the items with
    ``m_u = Σ_c N[u, c] ≥ 2`` values; ``w_u`` = 1 unless ``weights`` are given.

    Parameters
    ----------
    counts : (n_items, n_classes) int array; items with fewer than two values are ignored.
    weights : optional (n_items,) item weights (e.g. bootstrap multiplicities).

    Returns
    -------
    (n_classes, n_classes) float64 array, symmetric; its sum is the number of pairable values.
    """
    counts, weights = check_counts(counts, weights)
    q = counts.shape[1]
    o: FloatArray = np.zeros((q, q))
    diagonal: FloatArray = np.zeros(q)
    for start in range(0, counts.shape[0], CHUNK_ITEMS):  # blocks of items, bounded memory
        block = counts[start : start + CHUNK_ITEMS]
        m = row_sum(block)
        keep = m >= 2
        n = block[keep].astype(np.float64)
        w = 1.0 / (m[keep] - 1.0)
        if weights is not None:
            w = w * weights[start : start + CHUNK_ITEMS][keep]
        nw = n * w[:, None]
        o += nw.T @ n
        diagonal += nw.sum(axis=0)
    o[np.diag_indices(q)] -= diagonal
    return o


def pairable_weight(counts: AnyArray, weights: AnyArray | None = None) -> float:
    """Number of pairable items (≥ 2 values), each counted with its weight."""
    counts, checked = check_counts(counts, weights)
    mask = row_sum(counts) >= 2
    return float(mask.sum() if checked is None else checked[mask].sum())


def merge_matrix(n_classes: int, groups: Sequence[Sequence[int]]) -> IntArray:
    """0/1 matrix mapping classes to merged classes.

    Parameters
    ----------
    n_classes : number of classes before the merge.
    groups : disjoint groups of class indices to merge; each group becomes one class at the
        position of its smallest index; classes in no group stay as they are.

    Returns
    -------
    (n_classes, n_merged) int64 array M; ``counts @ M`` are the merged counts and
    ``M.T @ o @ M`` the merged coincidence matrix (both exact).
    """
    target = np.arange(n_classes)
    seen: set[int] = set()
    for group in groups:
        members = sorted({int(c) for c in group})
        if len(members) < 2:
            raise ValueError(f"a merge needs at least two distinct classes, got {list(group)}")
        if members[0] < 0 or members[-1] >= n_classes:
            raise ValueError(f"class index out of range 0..{n_classes - 1}: {members}")
        if seen & set(members):
            raise ValueError(f"merge groups overlap on classes {sorted(seen & set(members))}")
        seen |= set(members)
        target[members] = members[0]
    kept, column = np.unique(target, return_inverse=True)
    matrix: IntArray = np.zeros((n_classes, len(kept)), dtype=np.int64)
    matrix[np.arange(n_classes), column] = 1
    return matrix


def merge_counts(counts: AnyArray, groups: Sequence[Sequence[int]]) -> IntArray:
    """Counts after merging groups of classes (see :func:`merge_matrix`).

    Returns
    -------
    (n_items, n_merged) int64 array.
    """
    counts, _ = check_counts(counts)
    merged: IntArray = counts.astype(np.int64, copy=False) @ merge_matrix(counts.shape[1], groups)
    return merged
