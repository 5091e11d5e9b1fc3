"""Categorical agreement beside alpha: percent agreement, Fleiss' kappa, Gwet's AC1, Cohen's kappa
for every labeler pair, per-class agreement, class confusions and merge what-ifs.

Percent agreement, Fleiss' kappa and AC1 follow Gwet's irrCAC (*Handbook of Inter-Rater
Reliability*, 4th ed., functions ``pa.coeff.raw``, ``fleiss.kappa.raw``, ``gwet.ac1.raw``), which
generalize them to items with different numbers of answers:

* ``p_a`` = mean over items with ``m_u ≥ 2`` answers of Σ_c n_uc (n_uc − 1) / (m_u (m_u − 1)),
  the share of agreeing labeler pairs (percent agreement);
* ``π_c`` = mean over items with ≥ 1 answer of n_uc / m_u;
* Fleiss: ``p_e = Σ_c π_c²``; AC1: ``p_e = Σ_c π_c (1 − π_c) / (q − 1)``, q = number of classes
  in the counts (pass the schema's class list: unused classes change AC1);
* coefficient = (p_a − p_e) / (1 − p_e).

On Krippendorff's (2011) 4 × 12 matrix they give 0.8181818, 0.76117 and 0.77544 (irrCAC).
"""

import itertools
from collections.abc import Hashable, Sequence
from typing import Literal, NamedTuple, SupportsInt, cast

import numpy as np
import pandas as pd
from scipy import sparse

from consistency.metrics.arrays import AnyArray, FloatArray, row_sum
from consistency.metrics.frames import check_frame, factorize, narrow
from consistency.metrics.stats.alpha import alpha_from_coincidences, binary_alpha, distance_matrix
from consistency.metrics.stats.counts import (
    check_counts,
    class_codes,
    coincidences,
    merge_matrix,
    pairable_weight,
)


def _labels(classes: Sequence[Hashable] | None, n_classes: int) -> pd.Index:
    if classes is None:
        return pd.Index(range(n_classes), name="class")
    labels = pd.Index(list(classes), name="class")
    if len(labels) != n_classes:
        raise ValueError(f"{len(labels)} class names for {n_classes} count columns")
    return labels


def agreement_terms(counts: AnyArray, weights: AnyArray | None = None) -> tuple[float, FloatArray]:
    """(p_a, π) of irrCAC, shared by percent agreement, Fleiss' kappa and Gwet's AC1 (a report
    computes them once for the three: ``fleiss_from_terms``, ``gwet_from_terms``).

    Parameters
    ----------
    counts : (n_items, n_classes) int array; weights : optional (n_items,).

    Returns
    -------
    (p_a, π): π has shape (n_classes,). ``ValueError`` with fewer than two pairable items.
    """
    counts, checked = check_counts(counts, weights)
    if pairable_weight(counts, checked) < 2:
        raise ValueError("fewer than two items have two or more answers: agreement is undefined")
    n = counts.astype(np.float64)
    m = row_sum(n)
    w = np.ones_like(m) if checked is None else checked
    two = m >= 2
    agree = row_sum(n[two] * (n[two] - 1.0)) / (m[two] * (m[two] - 1.0))
    pa = float(w[two] @ agree / w[two].sum())
    rated = m >= 1
    pi: FloatArray = (w[rated] @ (n[rated] / m[rated, None])) / w[rated].sum()
    return pa, pi


def percent_agreement(counts: AnyArray, *, weights: AnyArray | None = None) -> float:
    """Share of agreeing labeler pairs, averaged over items with ≥ 2 answers.

    Parameters
    ----------
    counts : (n_items, n_classes) int array of per-item value counts.
    weights : optional (n_items,) item weights.
    """
    return agreement_terms(counts, weights)[0]


def item_pair_agreement(counts: AnyArray) -> FloatArray:
    """Share of agreeing answer pairs on each item: Σ_c n_uc (n_uc − 1) / (m_u (m_u − 1)).

    Parameters
    ----------
    counts : (n_items, n_classes) int array of per-item value counts.

    Returns
    -------
    (n_items,) float64 array; NaN for items with fewer than two answers. Its mean over the
    items with ≥ 2 answers is :func:`percent_agreement`.
    """
    counts, _ = check_counts(counts)
    n = counts.astype(np.float64)
    m = row_sum(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        agreement: FloatArray = np.where(m >= 2, row_sum(n * (n - 1.0)) / (m * (m - 1.0)), np.nan)
    return agreement


def fleiss_kappa(counts: AnyArray, *, weights: AnyArray | None = None) -> float:
    """Fleiss' kappa generalized to missing answers (irrCAC ``fleiss.kappa.raw``).

    Parameters
    ----------
    counts : (n_items, n_classes) int array; weights : optional (n_items,).

    Returns
    -------
    float; ``nan`` when chance agreement is 1 (a single class used).
    """
    return fleiss_from_terms(*agreement_terms(counts, weights))


def fleiss_from_terms(pa: float, pi: FloatArray) -> float:
    """:func:`fleiss_kappa` from :func:`agreement_terms`."""
    pe = float(pi @ pi)
    return (pa - pe) / (1.0 - pe) if pe < 1 else float("nan")


def gwet_ac1(counts: AnyArray, *, weights: AnyArray | None = None) -> float:
    """Gwet's AC1 (irrCAC ``gwet.ac1.raw``): stays meaningful when one class dominates.

    Parameters
    ----------
    counts : (n_items, n_classes) int array, n_classes ≥ 2; weights : optional (n_items,).
    """
    return gwet_from_terms(*agreement_terms(counts, weights))


def gwet_from_terms(pa: float, pi: FloatArray) -> float:
    """:func:`gwet_ac1` from :func:`agreement_terms`."""
    q = len(pi)
    if q < 2:
        raise ValueError("AC1 needs at least two classes")
    pe = float((pi * (1.0 - pi)).sum() / (q - 1))
    return (pa - pe) / (1.0 - pe) if pe < 1 else float("nan")


class PairwiseKappa(NamedTuple):
    """Cohen's kappa of every labeler pair.

    Attributes
    ----------
    kappa : labeler × labeler DataFrame (symmetric); NaN on the diagonal, where a pair shares
        fewer than ``min_shared`` items, and where chance agreement is 1.
    support : labeler × labeler int DataFrame of shared items (diagonal: items answered).
    """

    kappa: pd.DataFrame
    support: pd.DataFrame


def cohen_kappa_pairs(
    frame: pd.DataFrame, classes: Sequence[Hashable], *, min_shared: int = 2
) -> PairwiseKappa:
    """Cohen's kappa for every pair of labelers, on the items both answered.

    One sparse item × (labeler, class) indicator matrix X, a block of items at a time: XᵀX
    holds, for every two labelers a and b and classes c and c', the items where a said c and
    b said c'; agreement, chance and support are its sums. Memory is a few bytes per answer
    and O((labelers × classes)²), never a labeler² × classes² dense table.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value``; one answer per labeler and
        item (a repeated answer raises ``ValueError``).
    classes : the ordered class list (n_classes,).
    min_shared : pairs sharing fewer items get NaN.

    Returns
    -------
    PairwiseKappa (kappa, support), both indexed by labeler on rows and columns.
    """
    check_frame(frame, min_labelers=2, allow_missing_values=True)  # class_codes reports them
    k = len(classes)
    codes = narrow(class_codes(frame["value"], classes), k)
    lab, labelers = factorize(frame["labeler"])
    n_lab = len(labelers)
    column = narrow(lab, n_lab * k)
    del lab
    column *= k  # (labeler, class) as one column code
    column += codes
    del codes
    item, _ = pd.factorize(frame["item"])  # any numbering: items are only told apart
    n_items = int(item.max()) + 1
    item = narrow(item, n_items)
    products = _indicator_products(item, column, n_items, n_lab, k)
    del item, column
    # Sums of whole numbers below 2**53: exact in float64, in any order.
    a, c = np.divmod(products.row, k)
    b, other = np.divmod(products.col, k)
    pair = a.astype(np.int64) * n_lab + b
    count = products.data
    support = np.bincount(pair, weights=count, minlength=n_lab * n_lab).reshape(n_lab, n_lab)
    same = c == other
    agree = np.bincount(pair[same], weights=count[same], minlength=n_lab * n_lab).reshape(n_lab, n_lab)
    chance = np.zeros((n_lab, n_lab))
    for class_code in np.unique(c):  # one labeler × labeler table at a time
        chose = c == class_code
        said = np.bincount(pair[chose], weights=count[chose], minlength=n_lab * n_lab).reshape(n_lab, n_lab)
        chance += said * said.T  # [a, b]: shared items where a said the class
    with np.errstate(divide="ignore", invalid="ignore"):
        po = agree / support
        pe = chance / support**2
        kappa = (po - pe) / (1.0 - pe)
    kappa[(support < min_shared) | (pe >= 1) | ~np.isfinite(kappa)] = np.nan
    np.fill_diagonal(kappa, np.nan)
    names = pd.Index(labelers, name="labeler")
    return PairwiseKappa(
        kappa=pd.DataFrame(kappa, index=names, columns=names.rename("other")),
        support=pd.DataFrame(support.round().astype(np.int64), index=names, columns=names.rename("other")),
    )


#: Answers per block of items in :func:`_indicator_products`.
KAPPA_BLOCK = 1 << 20


def _indicator_products(
    item: AnyArray, column: AnyArray, n_items: int, n_lab: int, k: int
) -> sparse.coo_matrix:
    """XᵀX of the item × (labeler, class) indicator X, summed over blocks of items: (n_lab·k)²
    sparse, float64 counts. ``ValueError`` when a labeler answered an item more than once."""
    width = n_lab * k
    total = sparse.csr_matrix((width, width))
    n_blocks = -(-len(item) // KAPPA_BLOCK)
    bounds = np.linspace(0, n_items, n_blocks + 1).astype(np.int64)
    for lo, hi in itertools.pairwise(bounds.tolist()):
        rows = np.flatnonzero((item >= lo) & (item < hi)) if n_blocks > 1 else slice(None)
        block_item = item[rows] - lo
        block_column = column[rows]
        shape = (int(hi - lo), width)
        x = sparse.csr_matrix((np.ones(len(block_item)), (block_item, block_column)), shape=shape)
        labelers = sparse.csr_matrix(
            (np.ones(len(block_item), dtype=bool), (block_item, block_column // k)), shape=(shape[0], n_lab)
        )
        # A repeated (item, labeler) answer is a merged entry: fewer entries than answers.
        if labelers.nnz < len(block_item):
            raise ValueError(
                "a labeler answered the same item more than once: keep one answer per labeler and item"
            )
        total = total + x.T @ x
    return total.tocoo()


def per_class_agreement(counts: AnyArray, classes: Sequence[Hashable] | None = None) -> pd.DataFrame:
    """Agreement on each class against the rest (binary nominal alpha), with its support.

    Parameters
    ----------
    counts : (n_items, n_classes) int array of per-item value counts.
    classes : optional names of the n_classes columns (default 0 .. n_classes − 1).

    Returns
    -------
    DataFrame indexed by class with columns ``alpha`` (NaN for a class never or always given
    in pairable items), ``support`` (answers giving the class) and ``pairable`` (those answers
    on items with ≥ 2 answers, the ones alpha uses).
    """
    counts, _ = check_counts(counts)
    m = counts.sum(axis=1)
    return pd.DataFrame(
        {
            "alpha": binary_alpha(counts, m),
            "support": counts.sum(axis=0).astype(np.int64),
            "pairable": counts[m >= 2].sum(axis=0).astype(np.int64),
        },
        index=_labels(classes, counts.shape[1]),
    )


def class_confusion(counts: AnyArray, classes: Sequence[Hashable] | None = None) -> pd.DataFrame:
    """How often two labelers gave classes a and b to the same item.

    Off the diagonal, ``[a, b] = Σ_u n_ua · n_ub``: the number of labeler pairs (unordered) on
    the same item where one said a and the other b; the matrix is symmetric, so each such pair
    appears in both [a, b] and [b, a]. The diagonal holds the agreeing pairs Σ_u n_ua (n_ua − 1) / 2.
    Large off-diagonal cells relative to the diagonals are merge candidates.

    Parameters
    ----------
    counts : (n_items, n_classes) int array; classes : optional names of the columns.

    Returns
    -------
    (n_classes × n_classes) int64 DataFrame indexed and labeled by class.
    """
    counts, _ = check_counts(counts)
    n = counts.astype(np.float64)
    pairs = n.T @ n  # BLAS; exact for integers below 2**53
    pairs[np.diag_indices_from(pairs)] = (n * (n - 1.0)).sum(axis=0) / 2.0
    labels = _labels(classes, counts.shape[1])
    return pd.DataFrame(pairs.round().astype(np.int64), index=labels, columns=labels.rename("other"))


def _group_indices(
    groups: Sequence[Sequence[Hashable]], classes: Sequence[Hashable] | None, n_classes: int
) -> list[list[int]]:
    if classes is None:
        return [[int(cast(SupportsInt, c)) for c in group] for group in groups]  # column indices
    index = _labels(classes, n_classes)
    out = []
    for group in groups:
        positions = index.get_indexer(list(group))
        if (positions < 0).any():
            unknown = [g for g, p in zip(group, positions, strict=True) if p < 0]
            raise ValueError(f"unknown classes in merge: {unknown}")
        out.append(positions.tolist())
    return out


def merge_what_if(
    counts: AnyArray,
    groups: Sequence[Sequence[Hashable]],
    *,
    classes: Sequence[Hashable] | None = None,
    level: Literal["nominal", "ordinal"] = "nominal",
) -> float:
    """Alpha if each group of classes were merged into one, computed exactly from the counts.

    The merged coincidence matrix is ``Mᵀ o M`` (M from
    :func:`consistency.metrics.stats.counts.merge_matrix`), identical to recounting merged answers.

    Parameters
    ----------
    counts : (n_items, n_classes) int array of per-item value counts.
    groups : groups of classes to merge (names when ``classes`` is given, else column indices).
    classes : optional names of the n_classes columns.
    level : "nominal", or "ordinal" when every group is a run of adjacent classes.

    Returns
    -------
    float, alpha after the merge.
    """
    if level not in ("nominal", "ordinal"):
        raise ValueError(f"merge what-if supports nominal and ordinal alpha, not {level!r}")
    counts, _ = check_counts(counts)
    indices = _group_indices(groups, classes, counts.shape[1])
    if level == "ordinal" and any(np.ptp(g) != len(set(g)) - 1 for g in indices):
        raise ValueError("an ordinal merge must join adjacent classes")
    if pairable_weight(counts) < 2:
        raise ValueError("fewer than two items have two or more values: alpha is undefined")
    matrix = merge_matrix(counts.shape[1], indices).astype(np.float64)
    merged = matrix.T @ coincidences(counts) @ matrix
    return alpha_from_coincidences(merged, distance_matrix(level, len(merged), marginals=merged.sum(axis=1)))


def merge_gains(counts: AnyArray, classes: Sequence[Hashable] | None = None) -> pd.DataFrame:
    """Nominal alpha after merging each pair of classes, all pairs at once (no loop).

    With o the coincidence matrix, n_c its marginals and n its total, nominal alpha is
    ``1 − (n − 1)(n − tr o) / (n² − Σ n_c²)``; merging a and b adds 2·o_ab to the trace and
    2·n_a·n_b to Σ n_c².

    Parameters
    ----------
    counts : (n_items, n_classes) int array; classes : optional names of the columns.

    Returns
    -------
    DataFrame with one row per unordered class pair, columns ``class_a``, ``class_b``,
    ``coincidences`` (o_ab), ``alpha_after`` and ``gain`` (alpha_after − alpha), sorted by gain,
    best first.
    """
    counts, _ = check_counts(counts)
    if pairable_weight(counts) < 2:
        raise ValueError("fewer than two items have two or more values: alpha is undefined")
    o = coincidences(counts)
    marg = o.sum(axis=1)
    n = marg.sum()
    before = alpha_from_coincidences(o, distance_matrix("nominal", len(o)))
    a, b = np.triu_indices(len(o), k=1)
    expected = n**2 - (marg**2).sum() - 2.0 * marg[a] * marg[b]
    with np.errstate(divide="ignore", invalid="ignore"):
        after = np.where(expected > 0, 1.0 - (n - 1.0) * (n - np.trace(o) - 2.0 * o[a, b]) / expected, np.nan)
    labels = _labels(classes, counts.shape[1])
    out = pd.DataFrame(
        {
            "class_a": labels[a],
            "class_b": labels[b],
            "coincidences": o[a, b],
            "alpha_after": after,
            "gain": after - before,
        }
    )
    return out.sort_values("gain", ascending=False, kind="stable", ignore_index=True)
