"""Majority vote from per-item counts, with an explicit tie rule: a tie gives no consensus."""

import numpy as np


def majority_from_counts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Winner per item, its vote share, and whether the top is tied.

    counts : (n_items, n_classes) int array.
    returns : winner (n_items,) class index or -1 on a tie or no answers; share (n_items,)
    float (top count / answers, NaN without answers); tie (n_items,) bool.
    """
    counts = np.asarray(counts)
    if counts.ndim != 2:
        raise ValueError("counts must be 2-D (items × classes)")
    total = counts.sum(axis=1)
    top = counts.max(axis=1) if counts.shape[1] else np.zeros(len(counts), dtype=int)
    n_top = (counts == top[:, None]).sum(axis=1)
    tie = (n_top > 1) & (total > 0)
    winner = np.where(tie | (total == 0), -1, counts.argmax(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, top / total, np.nan)
    return winner, share, tie


def top_two(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the most and second most given classes per item (-1 when absent).

    Ties are broken by class order, so the pair is deterministic.
    """
    counts = np.asarray(counts)
    order = np.argsort(-counts, axis=1, kind="stable")
    first = np.where(counts[np.arange(len(counts)), order[:, 0]] > 0, order[:, 0], -1)
    if counts.shape[1] < 2:
        return first, np.full(len(counts), -1)
    second = np.where(counts[np.arange(len(counts)), order[:, 1]] > 0, order[:, 1], -1)
    return first, second


def item_pair_agreement(counts: np.ndarray) -> np.ndarray:
    """Share of agreeing answer pairs per item (n_items,); NaN for items with < 2 answers."""
    counts = np.asarray(counts, dtype=np.float64)
    m = counts.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m >= 2, (counts * (counts - 1)).sum(axis=1) / (m * (m - 1)), np.nan)
