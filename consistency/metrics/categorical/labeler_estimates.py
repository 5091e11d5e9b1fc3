"""Labeler estimates for the adaptive overlap policy: a Dawid–Skene fit, gold-calibrated, turned
into the matrices the submit path reads (``labeling.adaptive.Estimates``).

Pure numpy/pandas. The service ``consistency.services.labeler_fits`` stores the result and
``bench/bench_adaptive.py`` calls it the same way while replaying crowd data.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from consistency.metrics.arrays import FloatArray
from consistency.metrics.categorical.dawid_skene import DawidSkene


@dataclass(frozen=True)
class LabelerEstimates:
    """classes : class names (order of every matrix).
    priors : (k,) P(true class).
    confusion : labeler → (k, k) P(answer = column | true = row).
    answers : labeler → answers the fit read.
    typical : (k, k) the answer-weighted mean of the labelers' matrices.
    gold_items : gold items among the answered ones (they clamp the fit).
    """

    classes: tuple[Hashable, ...]
    priors: FloatArray
    confusion: dict[Hashable, FloatArray]
    answers: dict[Hashable, int]
    typical: FloatArray
    gold_items: int


def labeler_estimates(
    frame: pd.DataFrame, *, gold: pd.Series | None = None, classes: Sequence[Hashable] | None = None
) -> LabelerEstimates:
    """Fit Dawid–Skene on the answers and return each labeler's confusion matrix.

    frame : columns item, labeler, value (one row per answer, skips left out).
    gold : optional Series item → known class; gold items clamp the posteriors (calibration).
    classes : optional class order (the schema's); defaults to the answered classes.
    ValueError on an empty frame or gold outside the classes.
    """
    if frame.empty:
        raise ValueError("no answers to estimate labelers from")
    if gold is not None:
        gold = gold[gold.index.isin(frame["item"].unique())]
    fit = DawidSkene(classes=classes).fit(frame[["item", "labeler", "value"]], gold=gold)
    k = len(fit.classes_)
    matrices = fit.confusion_.to_numpy().reshape(len(fit.labelers_), k, k)
    counts = frame.groupby("labeler").size().reindex(fit.labelers_).fillna(0).to_numpy()
    weights = counts / counts.sum()
    typical = np.tensordot(weights, matrices, axes=1)
    return LabelerEstimates(
        classes=tuple(fit.classes_),
        priors=fit.priors_.to_numpy(),
        confusion={labeler: matrices[i] for i, labeler in enumerate(fit.labelers_)},
        answers={labeler: int(counts[i]) for i, labeler in enumerate(fit.labelers_)},
        typical=typical,
        gold_items=0 if gold is None else int(gold.notna().sum()),
    )
