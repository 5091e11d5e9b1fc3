"""Chance-corrected agreement beside alpha: percent agreement, Fleiss' kappa, Gwet's AC1
(all from per-item counts, with missing answers), and Cohen's kappa for every labeler pair.

Formulas follow Gwet's irrCAC (Handbook of Inter-Rater Reliability, 4th ed.), which
generalizes Fleiss' kappa and AC1 to items with different numbers of answers.
"""

import numpy as np
import pandas as pd

from consistency.metrics.coincidence import _check_counts


def _agreement_terms(counts: np.ndarray) -> tuple[float, np.ndarray]:
    counts = _check_counts(counts).astype(np.float64)
    m = counts.sum(axis=1)
    rated = m >= 1
    pairable = m >= 2
    if pairable.sum() == 0:
        raise ValueError("no item has two answers: agreement is undefined")
    n2 = counts[pairable]
    m2 = m[pairable]
    pa = float(((n2 * (n2 - 1)).sum(axis=1) / (m2 * (m2 - 1))).mean())
    pi = (counts[rated] / m[rated][:, None]).mean(axis=0)
    return pa, pi


def percent_agreement(counts: np.ndarray) -> float:
    """Share of agreeing labeler pairs, averaged over items with ≥ 2 answers (n_items × n_classes)."""
    return _agreement_terms(counts)[0]


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa, generalized to missing answers (irrCAC ``fleiss.kappa.raw``)."""
    pa, pi = _agreement_terms(counts)
    pe = float((pi**2).sum())
    return (pa - pe) / (1 - pe) if pe < 1 else float("nan")


def gwet_ac1(counts: np.ndarray) -> float:
    """Gwet's AC1: stays meaningful when one class dominates (irrCAC ``gwet.ac1.raw``)."""
    pa, pi = _agreement_terms(counts)
    q = len(pi)
    if q < 2:
        raise ValueError("AC1 needs at least two classes")
    pe = float((pi * (1 - pi)).sum() / (q - 1))
    return (pa - pe) / (1 - pe) if pe < 1 else float("nan")


def cohen_kappa_pairs(
    frame: pd.DataFrame, classes, *, min_shared: int = 2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cohen's kappa for every pair of labelers on the items both answered.

    frame : columns ``item``, ``labeler``, ``value`` (one answer per labeler and item).
    returns : (kappa, support), both labeler × labeler DataFrames; kappa is NaN where a pair
    shares fewer than ``min_shared`` items or where chance agreement is 1.
    """
    if frame.empty:
        raise ValueError("no answers: the annotations frame is empty")
    class_index = pd.Index(list(classes))
    codes = class_index.get_indexer(frame["value"])
    if (codes < 0).any():
        raise ValueError("values outside the schema")
    labelers, lab = np.unique(frame["labeler"].to_numpy(), return_inverse=True)
    _, item = np.unique(frame["item"].to_numpy(), return_inverse=True)
    table = pd.DataFrame({"item": item, "lab": lab, "code": codes})
    pairs = table.merge(table, on="item", suffixes=("_a", "_b"))
    pairs = pairs[pairs["lab_a"] != pairs["lab_b"]]
    L, q = len(labelers), len(class_index)
    key = (
        (pairs["lab_a"].to_numpy() * L + pairs["lab_b"].to_numpy()) * q + pairs["code_a"].to_numpy()
    ) * q + pairs["code_b"].to_numpy()
    tables = np.bincount(key, minlength=L * L * q * q).reshape(L, L, q, q).astype(np.float64)
    support = tables.sum(axis=(2, 3))
    with np.errstate(divide="ignore", invalid="ignore"):
        po = np.trace(tables, axis1=2, axis2=3) / support
        rows = tables.sum(axis=3) / support[..., None]
        cols = tables.sum(axis=2) / support[..., None]
        pe = (rows * cols).sum(axis=2)
        kappa = (po - pe) / (1 - pe)
    kappa[(support < min_shared) | ~np.isfinite(kappa)] = np.nan
    np.fill_diagonal(kappa, np.nan)
    names = pd.Index(labelers, name="labeler")
    return (
        pd.DataFrame(kappa, index=names, columns=names),
        pd.DataFrame(support.astype(np.int64), index=names, columns=names),
    )
