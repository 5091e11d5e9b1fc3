"""Majority vote with a deterministic tie rule: a tie gives no consensus, never a random pick."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from consistency.metrics._frames import encode
from consistency.metrics.consensus._base import Aggregator, result_frame

METHOD = "majority_vote"


def majority_from_counts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Winner per row of a vote-count matrix, with ties giving no winner.

    Parameters
    ----------
    counts : (n_items, n_classes) non-negative array of votes (or vote weights).

    Returns
    -------
    winner : (n_items,) int64, class index, or -1 on a tie or when the row has no votes.
    share : (n_items,) float64, top votes / all votes (NaN without votes). On a tie this is
        the share of each tied class.
    tie : (n_items,) bool, True when two or more classes share the top count.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2:
        raise ValueError(f"counts must be 2-D (items × classes), got shape {counts.shape}")
    if counts.shape[1] == 0:
        empty = np.zeros(len(counts), dtype=bool)
        return np.full(len(counts), -1, dtype=np.int64), np.full(len(counts), np.nan), empty
    total = counts.sum(axis=1)
    top = counts.max(axis=1)
    n_top = (counts == top[:, None]).sum(axis=1)
    tie = (n_top > 1) & (total > 0)
    winner = np.where(tie | (total <= 0), -1, counts.argmax(axis=1)).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, top / total, np.nan)
    return winner, share, tie


def top_two(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The most and the second most given class per row of a vote-count matrix.

    Parameters
    ----------
    counts : (n_items, n_classes) non-negative array of votes.

    Returns
    -------
    first, second : (n_items,) int64 class indices, -1 where the row has no such class (no
    votes, or a single class voted). Equal counts are ordered by class index, so the pair is
    deterministic.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2:
        raise ValueError(f"counts must be 2-D (items × classes), got shape {counts.shape}")
    rows = np.arange(len(counts))
    order = np.argsort(-counts, axis=1, kind="stable")
    none = np.full(len(counts), -1, dtype=np.int64)
    if counts.shape[1] == 0:
        return none, none.copy()
    first = np.where(counts[rows, order[:, 0]] > 0, order[:, 0], -1).astype(np.int64)
    if counts.shape[1] < 2:
        return first, none
    second = np.where(counts[rows, order[:, 1]] > 0, order[:, 1], -1).astype(np.int64)
    return first, second


class MajorityVote(Aggregator):
    """The most given answer per item.

    Tie rule: when two or more classes share the top count the item gets **no consensus**
    (``None``, ``tie`` = True) and is counted in ``ties_``; it is never broken at random or
    by class order. Repeated answers by one labeler count as separate votes.

    Parameters
    ----------
    classes : optional class order (e.g. the schema's classes, answered or not).

    Fitted attributes
    -----------------
    classes_ : Index of classes (columns of ``probas_``).
    probas_ : DataFrame (items × classes), vote shares per item.
    labels_ : Series item → consensus (None on a tie).
    result_ : consensus frame (item → consensus, method, confidence = top vote share,
        n_answers, tie).
    ties_ : int, number of tied items.
    """

    method = METHOD

    def __init__(self, *, classes: Sequence | None = None) -> None:
        self.classes = classes

    def fit(self, frame: pd.DataFrame) -> MajorityVote:
        """Count votes. ``frame``: columns item, labeler, value (one row per answer)."""
        encoded = encode(frame, classes=self.classes)
        counts = encoded.counts()
        winner, share, tie = majority_from_counts(counts)
        n_answers = counts.sum(axis=1)
        self.classes_ = encoded.classes
        self.probas_ = pd.DataFrame(
            counts / n_answers[:, None],
            index=pd.Index(encoded.items, name="item"),
            columns=encoded.classes,
        )
        values = encoded.class_values(winner)
        self.labels_ = pd.Series(values, index=pd.Index(encoded.items, name="item"), name="consensus")
        self.ties_ = int(tie.sum())
        self.result_ = result_frame(
            encoded.items, values, method=METHOD, confidence=share, n_answers=n_answers, tie=tie
        )
        return self
