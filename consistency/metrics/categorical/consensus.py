"""Categorical consensus: the per-item consensus frame, majority vote, the gold override and
scoring against gold. Dawid–Skene is in :mod:`consistency.metrics.categorical.dawid_skene`.

Aggregators share crowd-kit's shape: ``fit(frame) -> self``, ``fit_predict(frame) -> Series``,
fitted attributes ending in ``_``, plus ``fit_predict_frame(frame, gold=...)`` returning the
consensus frame. A tie gives no consensus, never a random pick.

A consensus frame is indexed by ``item`` and has the columns of :data:`RESULT_COLUMNS`:

============  ===============================================================================
consensus     the aggregated answer (object dtype); None when there is none (a tie)
method        how it was obtained: "majority_vote", "dawid_skene" or "gold"
confidence    float in [0, 1]: vote share, posterior of the chosen class, ...; 1 for gold
n_answers     int, answers given on the item (0 for a gold item nobody answered)
tie           bool, True when the top candidates tie, so there is no consensus
============  ===============================================================================
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from consistency.metrics.arrays import AnyArray, BoolArray, FloatArray, IntArray, row_argmax, row_max, row_sum
from consistency.metrics.frames import as_gold, encode

RESULT_COLUMNS = ("consensus", "method", "confidence", "n_answers", "tie")
GOLD = "gold"
METHOD = "majority_vote"


def result_frame(
    items: pd.Index | AnyArray,
    consensus: AnyArray,
    *,
    method: str,
    confidence: AnyArray,
    n_answers: AnyArray,
    tie: AnyArray,
) -> pd.DataFrame:
    """Assemble a consensus frame (see the module docstring for the columns)."""
    return pd.DataFrame(
        {
            "consensus": np.asarray(consensus, dtype=object),
            "method": method,
            "confidence": np.asarray(confidence, dtype=np.float64),
            "n_answers": np.asarray(n_answers, dtype=np.int64),
            "tie": np.asarray(tie, dtype=bool),
        },
        index=pd.Index(items, name="item"),
    )


def apply_gold(result: pd.DataFrame, gold: pd.Series | None) -> pd.DataFrame:
    """Let gold labels beat any aggregate.

    Parameters
    ----------
    result : consensus frame indexed by item (columns :data:`RESULT_COLUMNS`).
    gold : Series item → known answer (NaN entries are ignored).

    Returns
    -------
    DataFrame
        A copy of ``result`` in which every gold item has ``consensus`` = the gold value,
        ``method`` = "gold", ``confidence`` = 1.0 and ``tie`` = False. Gold items nobody
        answered are appended with ``n_answers`` = 0. ``result`` is not modified.
    """
    missing = [column for column in RESULT_COLUMNS if column not in result.columns]
    if missing:
        raise ValueError(f"not a consensus frame: lacks columns {', '.join(missing)}")
    gold = as_gold(gold)
    out = result.copy()
    if gold.empty:
        return out
    new_items = gold.index.difference(out.index)
    if len(new_items):
        extra = result_frame(
            new_items,
            np.full(len(new_items), None, dtype=object),
            method=GOLD,
            confidence=np.ones(len(new_items)),
            n_answers=np.zeros(len(new_items), dtype=np.int64),
            tie=np.zeros(len(new_items), dtype=bool),
        )
        out = pd.concat([out, extra[out.columns.intersection(extra.columns)]])
        out.index.name = "item"
    rows = out.index.get_indexer(gold.index)
    consensus = out["consensus"].to_numpy(dtype=object, copy=True)
    consensus[rows] = gold.to_numpy(dtype=object)
    out["consensus"] = consensus
    out.iloc[rows, out.columns.get_loc("method")] = GOLD
    out.iloc[rows, out.columns.get_loc("confidence")] = 1.0
    out.iloc[rows, out.columns.get_loc("tie")] = False
    return out


class Aggregator(ABC):
    """crowd-kit's shape: ``fit(frame) -> self``, ``fit_predict(frame) -> Series``.

    Subclasses set ``result_`` (a consensus frame) and ``labels_`` in ``fit``.
    """

    result_: pd.DataFrame
    labels_: pd.Series

    @abstractmethod
    def fit(self, frame: pd.DataFrame) -> Aggregator:
        """Fit on ``frame`` (columns ``item``, ``labeler``, ``value``); returns self."""

    def fit_predict(self, frame: pd.DataFrame) -> pd.Series:
        """Consensus per item: Series indexed by item, None where there is none."""
        return self.fit(frame).labels_

    def fit_predict_frame(self, frame: pd.DataFrame, *, gold: pd.Series | None = None) -> pd.DataFrame:
        """The consensus frame (module docstring), with ``gold`` overriding where given."""
        return apply_gold(self.fit(frame).result_, gold)


def majority_from_counts(counts: AnyArray) -> tuple[IntArray, FloatArray, BoolArray]:
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
    total = row_sum(counts)
    top = row_max(counts)
    n_top = row_sum(counts == top[:, None])
    tie: BoolArray = (n_top > 1) & (total > 0)
    winner: IntArray = np.where(tie | (total <= 0), -1, row_argmax(counts)).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share: FloatArray = np.where(total > 0, top / total, np.nan)
    return winner, share, tie


def top_two(counts: AnyArray) -> tuple[IntArray, IntArray]:
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
    none: IntArray = np.full(len(counts), -1, dtype=np.int64)
    if counts.shape[1] == 0:
        return none, none.copy()
    first: IntArray = np.where(counts[rows, order[:, 0]] > 0, order[:, 0], -1).astype(np.int64)
    if counts.shape[1] < 2:
        return first, none
    second: IntArray = np.where(counts[rows, order[:, 1]] > 0, order[:, 1], -1).astype(np.int64)
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

    def __init__(self, *, classes: Sequence[Hashable] | None = None) -> None:
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


def accuracy(predicted: pd.Series, gold: pd.Series) -> float:
    """Share of gold items whose prediction equals the gold label.

    Parameters
    ----------
    predicted : Series item → predicted value (None/NaN = no consensus).
    gold : Series item → gold value (NaN entries ignored).

    Returns
    -------
    float over all gold items; an item with no prediction (absent, or a tie) counts as wrong.
    """
    gold = as_gold(gold)
    if gold.empty:
        raise ValueError("no gold labels to score against")
    aligned = predicted.reindex(gold.index)
    return float((aligned.to_numpy(dtype=object) == gold.to_numpy(dtype=object)).mean())


def majority_vote_accuracy(
    frame: pd.DataFrame, gold: pd.Series, *, ties: Literal["fractional", "wrong"] = "fractional"
) -> float:
    """Majority-vote accuracy on the gold items, with a stated tie convention.

    Parameters
    ----------
    frame : answers (columns item, labeler, value).
    gold : Series item → gold value.
    ties : "fractional" scores a tie among ``t`` top classes as ``1/t`` when the gold label is
        one of them (the expected accuracy of a random tie-break — how the published figures
        score ties); "wrong" scores it 0 (Concord's rule: a tie is no consensus).

    Returns
    -------
    float over all gold items; a gold item nobody answered counts as wrong.
    """
    if ties not in ("fractional", "wrong"):
        raise ValueError(f"ties must be 'fractional' or 'wrong', got {ties!r}")
    gold = as_gold(gold)
    if gold.empty:
        raise ValueError("no gold labels to score against")
    encoded = encode(frame)
    counts = encoded.counts()
    top_mask = counts == counts.max(axis=1, keepdims=True)
    n_top = top_mask.sum(axis=1)
    rows = encoded.items.get_indexer(gold.index)
    cols = encoded.classes.get_indexer(gold.to_numpy())
    known = (rows >= 0) & (cols >= 0)
    hit = np.zeros(len(gold))
    hit[known] = top_mask[rows[known], cols[known]]
    if ties == "fractional":
        credit = np.divide(hit, n_top[np.maximum(rows, 0)], out=np.zeros(len(gold)), where=known)
    else:
        credit = hit * (n_top[np.maximum(rows, 0)] == 1)
    return float(credit.mean())
