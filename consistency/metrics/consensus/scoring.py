"""Scoring a consensus against gold, with the tie conventions made explicit."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from consistency.metrics._frames import as_gold, encode


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
