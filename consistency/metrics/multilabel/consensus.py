"""Consensus of multi-class answers: per item, the classes chosen by more than half its answers
(an empty list when no class reaches a majority)."""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from consistency.metrics.arrays import IntArray


def multilabel_consensus(chosen: IntArray, answers: IntArray, classes: Sequence[str]) -> list[list[str]]:
    """The classes chosen by more than half of each item's answers.

    Parameters
    ----------
    chosen : (n_items, n_classes) answers on the item that chose each class.
    answers : (n_items,) answers on the item (including empty ones).
    classes : (n_classes,) class names.

    Returns
    -------
    list (n_items,) of lists of class names, in class order.
    """
    rows, cols = np.nonzero(chosen * 2 > answers[:, None])
    kept = pd.Series(np.asarray(classes, dtype=object)[cols]).groupby(rows).agg(list)
    consensus = kept.reindex(range(len(answers))).tolist()
    return [c if isinstance(c, list) else [] for c in consensus]  # items with no majority class
