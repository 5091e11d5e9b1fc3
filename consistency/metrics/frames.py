"""Validation and integer encoding of an annotations frame.

An annotations frame is a ``pandas.DataFrame`` with one row per answer and the columns

* ``item``    — what was labeled (any hashable: int, str, ...),
* ``labeler`` — who answered (any hashable),
* ``value``   — the answer: a class for categorical tasks, a list of box dicts for boxes, a
  list of classes for multi-class answers, a string for transcripts.

Extra columns are ignored. A labeler may answer an item more than once (Dawid & Skene's observer 1
rated every patient three times); each row is one observation.

Everything in the metrics core that takes a frame goes through :func:`check_frame` (loud on bad
input: ``ValueError``, never ``assert``), and the categorical aggregators through :func:`encode`,
which turns the three columns into dense integer codes so the numeric work is ``np.bincount`` and
sparse products, never a Python loop over answers.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from consistency.metrics.arrays import AnyArray, IntArray, ObjectArray

COLUMNS = ("item", "labeler", "value")
#: The slice value of items without one (``slices`` has no entry, or NaN).
NO_SLICE = "(none)"


def check_frame(frame: pd.DataFrame, *, min_labelers: int, allow_missing_values: bool = False) -> None:
    """Raise ``ValueError`` unless ``frame`` is a usable annotations frame.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (one row per answer); every
        answer needs an item and a labeler.
    min_labelers : the frame must hold answers from at least this many distinct labelers
        (2 for anything that compares labelers with each other, 1 otherwise).
    allow_missing_values : accept ``value`` None/NaN (an empty transcript, no box, no class, or a
        categorical answer left for the class check to report); the aggregators never do.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame of answers, got {type(frame).__name__}")
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(
            f"annotations frame lacks columns: {', '.join(missing)} (needs item, labeler, value)"
        )
    if len(frame) == 0:
        raise ValueError("no answers: the annotations frame is empty")
    for column in ("item", "labeler"):
        if frame[column].isna().any():
            raise ValueError(f"every answer needs an {column}: column {column!r} has missing entries")
    if not allow_missing_values and frame["value"].isna().any():
        raise ValueError("every answer needs a value: drop skipped answers first")
    if min_labelers == 2:
        labelers = frame["labeler"].to_numpy()
        # Cheaper than nunique() on millions of rows: is any labeler different from the first?
        if not (labelers != labelers[0]).any():
            raise ValueError(
                f"only one labeler ({labelers[0]!r}): agreement needs answers from at least 2 labelers"
            )
    elif min_labelers > 2:
        n_labelers = frame["labeler"].nunique()
        if n_labelers < min_labelers:
            raise ValueError(
                f"agreement needs answers from at least {min_labelers} labelers, got {n_labelers}"
            )


def factorize(values: pd.Series | pd.Index | AnyArray) -> tuple[IntArray, pd.Index]:
    """Dense codes 0..n-1 and the sorted uniques (first-seen order if the values don't sort).

    Parameters
    ----------
    values : (n,) hashable values.

    Returns
    -------
    (codes (n,) int64, uniques Index (n_unique,)).
    """
    if isinstance(values, pd.Series | pd.Index) and isinstance(values.dtype, pd.CategoricalDtype):
        return _factorize_categorical(pd.Categorical(values))
    try:
        codes, uniques = pd.factorize(values, sort=True)
    except TypeError:  # mixed types that cannot be ordered, e.g. 1 and "1"
        codes, uniques = pd.factorize(values, sort=False)
    return np.asarray(codes, dtype=np.int64), pd.Index(uniques)


def _factorize_categorical(values: pd.Categorical) -> tuple[IntArray, pd.Index]:
    """:func:`factorize` of categorical values (e.g. a run's answers, read as class codes): the
    few categories that occur are factorized as plain values, then gathered by code, so the
    codes and uniques are those of the same values held as objects."""
    codes = np.asarray(values.codes, dtype=np.int64)
    present = np.bincount(codes[codes >= 0], minlength=len(values.categories)) > 0
    category_code, uniques = factorize(np.asarray(values.categories, dtype=object)[present])
    lookup = np.full(len(values.categories) + 1, -1, dtype=np.int64)  # the last entry: code -1
    lookup[np.flatnonzero(present)] = category_code
    return lookup[codes], uniques


def index_of(index: pd.Index, values: pd.Series) -> IntArray:
    """``index.get_indexer(values)`` as int64 (-1: not in ``index``); categorical values look up
    their few categories, not every answer."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categorical = pd.Categorical(values)
        lookup = np.append(np.asarray(index.get_indexer(categorical.categories), dtype=np.int64), -1)
        return lookup[np.asarray(categorical.codes, dtype=np.int64)]
    return np.asarray(index.get_indexer(values), dtype=np.int64)


RANK_TABLE_MAX_KEYS = 4_000_000  # 16 MB of running counts at most (HLP is the run's memory peak)
RANK_BLOCK = 1 << 20


def key_codes(key: AnyArray, size: int) -> tuple[AnyArray, IntArray]:
    """Dense codes of non-negative integer keys, numbered in key order (``pd.factorize(key,
    sort=True)``) without a hash table of every key, which takes several times the keys' own
    memory on millions of distinct keys.

    Parameters
    ----------
    key : (n,) int keys in ``0 .. size − 1``, of any integer width (kept: no wider copy).
    size : the keys' range.

    Returns
    -------
    (codes (n,) int32 — int64 from 2**31 keys on —, uniques (n_unique,) int64 sorted). HLP's
    rates make the run's memory peak: four bytes a code, not eight.
    """
    key = np.asarray(key)
    if key.dtype.kind not in "iu":
        key = key.astype(np.int64)
    codes: AnyArray = np.empty(len(key), dtype=np.int32 if len(key) < 2**31 else np.int64)
    if size <= 4 * len(key) + 1024:  # a table over the range: a byte per possible key
        present = np.zeros(size, dtype=bool)
        present[key] = True
        uniques: IntArray = np.flatnonzero(present)
        if size <= RANK_TABLE_MAX_KEYS:
            # Each key's code read from a running count over the range, a block of keys at a
            # time: no binary search per key (1M-5M keys: 1.0-1.3 s → 0.04-0.06 s when they
            # come in no order). The count takes 4 bytes per possible key, hence the bound.
            rank = np.cumsum(present, dtype=np.int32)
            del present
            for lo in range(0, len(key), RANK_BLOCK):
                codes[lo : lo + RANK_BLOCK] = rank[key[lo : lo + RANK_BLOCK]]
            codes -= 1
            return codes, uniques
        del present
        for lo in range(0, len(key), RANK_BLOCK):  # a block at a time: no int64 of every key
            codes[lo : lo + RANK_BLOCK] = np.searchsorted(uniques, key[lo : lo + RANK_BLOCK])
        return codes, uniques
    order = np.argsort(key)
    ordered = key[order]
    first = np.empty(len(key), dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    uniques = ordered[first].astype(np.int64, copy=False)
    np.cumsum(first, out=ordered)  # reused: the code of each key in sorted order, plus one
    del first
    ordered -= 1
    codes[order] = ordered
    return codes, uniques


@dataclass(frozen=True)
class Encoded:
    """An annotations frame as integer codes.

    Attributes
    ----------
    item, labeler, value : (n_answers,) int64 codes into ``items``, ``labelers``, ``classes``
        (narrower integers from ``encode(compact=True)``).
    items, labelers, classes : the distinct values, sorted when they sort.
    """

    item: IntArray
    labeler: IntArray
    value: IntArray
    items: pd.Index
    labelers: pd.Index
    classes: pd.Index

    @property
    def n_answers(self) -> int:
        return len(self.item)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_labelers(self) -> int:
        return len(self.labelers)

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def counts(self) -> IntArray:
        """Votes per item and class: (n_items, n_classes) int64."""
        return class_counts(self.item, self.value, self.n_items, self.n_classes)

    def class_values(self, codes: AnyArray) -> ObjectArray:
        """Class values for ``codes`` (n,) as an object array; code -1 (no consensus) becomes None."""
        codes = np.asarray(codes)
        table = np.asarray(self.classes, dtype=object)
        if len(table) == 0:
            return np.full(len(codes), None, dtype=object)
        out: ObjectArray = table[np.maximum(codes, 0)]
        out[codes < 0] = None
        return out


def class_counts(group: IntArray, value: IntArray, n_groups: int, n_classes: int) -> IntArray:
    """Count answers per (group, class): (n_groups, n_classes) int64, one ``np.bincount``.

    group, value : (n_answers,) int codes in ``0 .. n_groups − 1`` and ``0 .. n_classes − 1``.
    """
    flat = group.astype(np.int64) * n_classes + value
    counts: IntArray = np.bincount(flat, minlength=n_groups * n_classes).reshape(n_groups, n_classes)
    return counts


def narrow(codes: IntArray, n_values: int) -> AnyArray:
    """A copy of codes into ``n_values`` values (and -1) in the narrowest signed integer that
    holds them: int8 for a few classes, int32 for items and labelers, int64 beyond 2**31."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_values < np.iinfo(dtype).max:
            return codes.astype(dtype)
    return codes.astype(np.int64)


def encode(
    frame: pd.DataFrame,
    *,
    classes: Sequence[Hashable] | None = None,
    min_labelers: int = 1,
    compact: bool = False,
) -> Encoded:
    """Validate a categorical annotations frame and encode it to integer codes.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (hashable values, no NaN).
    classes : the class order to use (e.g. every class of the schema, answered or not); by
        default the distinct answered values, sorted. A value outside ``classes`` is an error.
    min_labelers : see :func:`check_frame`.
    compact : codes as :func:`narrow` integers, each narrowed as soon as it is made (a quarter
        of the memory on millions of answers; keys built from them must widen first).

    Returns
    -------
    Encoded
    """
    check_frame(frame, min_labelers=min_labelers)
    item, items = factorize(frame["item"])
    if compact:
        item = narrow(item, len(items))
    labeler, labelers = factorize(frame["labeler"])
    if compact:
        labeler = narrow(labeler, len(labelers))
    try:
        if classes is None:
            value, class_index = factorize(frame["value"])
        else:
            class_index = pd.Index(classes)
            if class_index.has_duplicates:
                raise ValueError("classes must be distinct")
            value = index_of(class_index, frame["value"])
            if (value < 0).any():
                unknown = pd.unique(frame["value"][value < 0])[:5]
                raise ValueError(f"answers outside the given classes: {list(unknown)}")
    except TypeError as error:  # unhashable answers (lists, dicts) are not categorical
        raise ValueError(f"categorical answers must be hashable values, not {error}") from error
    if compact:
        value = narrow(value, len(class_index))
    return Encoded(item, labeler, value, items, labelers, class_index)


def as_gold(gold: pd.Series | None) -> pd.Series:
    """Gold labels as a Series item → value with missing entries dropped (empty if None)."""
    if gold is None:
        return pd.Series(dtype=object)
    if not isinstance(gold, pd.Series):
        raise ValueError(f"gold must be a pandas Series indexed by item, got {type(gold).__name__}")
    gold = gold.dropna()
    if gold.index.has_duplicates:
        raise ValueError("gold has more than one label for some items")
    return gold


def slice_frame(slices: pd.Series | pd.DataFrame | None) -> pd.DataFrame | None:
    """Slices as an item-indexed frame, one column per field (a Series is one field).

    A Series without a name becomes the field "slice"; None stays None.
    """
    if slices is None:
        return None
    if isinstance(slices, pd.Series):
        name: Any = slices.name if slices.name is not None else "slice"
        return slices.to_frame(name)
    if isinstance(slices, pd.DataFrame):
        return slices
    raise ValueError(f"slices must be a Series or DataFrame indexed by item, got {type(slices).__name__}")
