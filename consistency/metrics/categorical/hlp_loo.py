"""Leave-one-out references of categorical answers and the per-item two-random agreement, from
integer codes (:mod:`consistency.metrics.categorical.hlp`), in a few bytes per answer.

An answer's reference is the majority of the *other labelers'* answers on its item: every
answer its labeler gave on the item is removed. When each labeler answered an item once (the
usual case) that is the item's counts less the answer itself, worked out a block of answers
at a time. Only the items where a labeler answered more than once go through the (item,
labeler) pairs' counts, which take a row of class counts per pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from consistency.metrics.arrays import AnyArray, BoolArray, FloatArray, IntArray, row_argmax, row_max, row_sum
from consistency.metrics.frames import Encoded, class_counts, key_codes

#: Status of a leave-one-out answer by code.
STATUS = np.asarray(["scored", "tie", "alone"], dtype=object)
SCORED, TIE, ALONE = 0, 1, 2
#: Status codes per answer (n_answers,), one byte each.
StatusArray = NDArray[np.int8]
#: Answers worked out at once: their (block, n_classes) counts are the largest temporaries.
BLOCK = 1 << 19


def class_code_dtype(n_classes: int) -> type[np.signedinteger]:
    """The narrowest signed integer that holds class codes and -1."""
    return np.int8 if n_classes < 2**7 else np.int16 if n_classes < 2**15 else np.int32


@dataclass(frozen=True)
class LeaveOneOut:
    """Each answer against the other labelers of its item, as codes.

    reference : (n_answers,) the others' majority class code, -1 without one (narrow ints).
    status : (n_answers,) SCORED, TIE (the others tie) or ALONE (nobody else answered), int8.
    pair_agree : (n_items,) P(two distinct random labelers of the item agree); NaN below two
        labelers.
    """

    reference: AnyArray
    status: StatusArray
    pair_agree: FloatArray

    def agrees(self, value: AnyArray) -> BoolArray:
        """(n_answers,) the answer equals its reference (False when it has none)."""
        out: BoolArray = self.reference == value
        return out

    def agrees_float(self, value: AnyArray, rows: AnyArray | slice) -> FloatArray:
        """``rows``' (positions, a mask or a slice) agreement as 1.0 / 0.0, NaN without a
        reference."""
        scored = self.status[rows] == SCORED
        return np.where(scored, (self.reference[rows] == value[rows]).astype(np.float64), np.nan)


def leave_one_out_codes(encoded: Encoded) -> LeaveOneOut:
    """:class:`LeaveOneOut` of encoded answers (codes of any integer width)."""
    n, k = encoded.n_answers, encoded.n_classes
    per_item = encoded.counts()
    answers = row_sum(per_item)
    # Counts below 2**31 (always, in practice) as int32: half the memory of the block's rows.
    small = per_item.astype(np.int32) if answers.max(initial=0) < 2**31 else per_item
    reference = np.empty(n, dtype=class_code_dtype(k))
    status = np.empty(n, dtype=np.int8)
    for lo in range(0, n, BLOCK):
        hi = min(n, lo + BLOCK)
        others = small[encoded.item[lo:hi]]
        others[np.arange(hi - lo), encoded.value[lo:hi]] -= 1  # the answer itself removed
        reference[lo:hi], status[lo:hi] = _decide(others)
    del small
    # Each labeler's share of an item's answers is 0 or 1 when they answered once: then the sums
    # of shares and of their squares are the class counts themselves.
    with np.errstate(divide="ignore", invalid="ignore"):
        labelers = answers.astype(np.float64)
        pair_agree = np.where(
            labelers >= 2,
            row_sum(per_item * (per_item - 1)).astype(np.float64) / (labelers * (labelers - 1)),
            np.nan,
        )
    del per_item
    repeated = _repeated_items(encoded, answers)
    if repeated.any():
        _repeated_answers(encoded, np.flatnonzero(repeated[encoded.item]), reference, status, pair_agree)
    return LeaveOneOut(reference, status, pair_agree)


def _decide(others: AnyArray) -> tuple[IntArray, StatusArray]:
    """Reference class code (-1 without one) and status of answers whose others' counts are
    ``others`` (n, n_classes)."""
    top = row_max(others)
    n_top = row_sum(others == top[:, None])
    alone = top == 0
    tie = ~alone & (n_top > 1)
    scored = ~alone & ~tie
    reference: IntArray = np.where(scored, row_argmax(others), -1)
    status = np.full(len(scored), ALONE, dtype=np.int8)
    status[tie] = TIE
    status[scored] = SCORED
    return reference, status


def _repeated_items(encoded: Encoded, answers: IntArray) -> BoolArray:
    """(n_items,) items where some labeler answered more than once: fewer distinct labelers
    than answers (the item × labeler pattern; duplicates are merged in building it)."""
    pattern = sparse.csr_matrix(
        (np.ones(encoded.n_answers, dtype=bool), (encoded.item, encoded.labeler)),
        shape=(encoded.n_items, encoded.n_labelers),
    )
    repeated: BoolArray = np.diff(pattern.indptr) < answers
    return repeated


def _repeated_answers(
    encoded: Encoded, rows: IntArray, reference: AnyArray, status: StatusArray, pair_agree: FloatArray
) -> None:
    """Fill ``rows`` (the answers on items where a labeler answered more than once) in place,
    from the (item, labeler) pairs' class counts of those items alone."""
    item, sub_item = np.unique(encoded.item[rows], return_inverse=True)
    sub = Encoded(
        item=np.asarray(sub_item, dtype=np.int64).reshape(-1),
        labeler=np.asarray(encoded.labeler[rows], dtype=np.int64),
        value=np.asarray(encoded.value[rows], dtype=np.int64),
        items=pd.RangeIndex(len(item)),
        labelers=encoded.labelers,
        classes=encoded.classes,
    )
    pairs = pair_counts(sub)
    others = sub.counts()[sub.item] - pairs.counts[pairs.code]  # all their own answers removed
    reference[rows], status[rows] = _decide(others)
    pair_agree[item] = item_pair_agreement(sub, pairs)


@dataclass(frozen=True)
class Pairs:
    """An encoded frame's (item, labeler) pairs: the pair of each answer (n_answers,), each
    pair's item (n_pairs,) and its answers per class (n_pairs, n_classes), int32 when they
    fit (they always do in practice: half the memory of int64)."""

    code: IntArray
    item: IntArray
    counts: AnyArray


def pair_counts(encoded: Encoded) -> Pairs:
    """The (item, labeler) pairs of ``encoded``, in (item, labeler) order (no hash of every
    answer's pair: :func:`key_codes`)."""
    n_labelers = encoded.n_labelers
    width = np.int32 if encoded.n_items * n_labelers < 2**31 else np.int64  # half the memory
    key: AnyArray = encoded.item.astype(width)
    key *= n_labelers
    key += encoded.labeler
    pair_code, pair_key = key_codes(key, encoded.n_items * n_labelers)
    del key
    counts = class_counts(pair_code, encoded.value, len(pair_key), encoded.n_classes)
    if counts.max(initial=0) < 2**31:
        counts = counts.astype(np.int32)
    return Pairs(pair_code, pair_key // n_labelers, counts)


def item_pair_agreement(encoded: Encoded, pairs: Pairs) -> FloatArray:
    """(n_items,) P(two distinct random labelers agree) from each labeler's share of their
    answers in each class; NaN with fewer than two labelers."""
    k, n = encoded.n_classes, encoded.n_items
    pair_item = pairs.item
    answers = pairs.counts.sum(axis=1, dtype=np.int64).astype(np.float64)
    total = np.empty((n, k))
    squares = np.empty((n, k))
    for c in range(k):  # one class at a time: (n_pairs,) temporaries, not (n_pairs, n_classes)
        share = pairs.counts[:, c] / answers  # each labeler's share of their answers in class c
        total[:, c] = np.bincount(pair_item, weights=share, minlength=n)
        squares[:, c] = np.bincount(pair_item, weights=share**2, minlength=n)
    n_labelers = np.bincount(pair_item, minlength=n).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        agree: FloatArray = np.where(
            n_labelers >= 2, (total**2 - squares).sum(axis=1) / (n_labelers * (n_labelers - 1)), np.nan
        )
    return agree
