"""Several classes per item: agreement per class and overall.

Each answer is a set of classes (``value`` = a list of class names; an empty list or None means
"none of them", a bare class name is read as a one-class list). Every class c then becomes a
yes/no question per answer: did the labeler choose c?

Documented choices:

* **per class**: binary nominal alpha of that yes/no question (chosen vs not chosen), with its
  support (answers choosing the class);
* **overall** (``alpha``): the mean of the per-class binary alphas weighted by support. It reads
  like the nominal alpha of a single-class project, stays defined when answers carry different
  numbers of classes, and decomposes into the per-class figures shown beside it. Classes never
  chosen, or chosen in every pairable answer, have no alpha and no weight;
* **set alpha** (``jaccard_alpha``): Krippendorff's alpha whose values are the answer sets and
  whose distance is the Jaccard distance 1 − |A ∩ B| / |A ∪ B| (two empty sets: 0). It credits
  partial overlap and is reported beside the weighted mean; its expected disagreement is exact
  whenever the distinct answer sets are few (see
  :func:`consistency.metrics.stats.alpha.pairwise_disagreement`).

Consensus (:mod:`consistency.metrics.multilabel.consensus`) keeps the classes chosen by more than
half of an item's answers.
"""

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from consistency.metrics.arrays import AnyArray, FloatArray, IntArray
from consistency.metrics.frames import check_frame, factorize
from consistency.metrics.multilabel.consensus import multilabel_consensus
from consistency.metrics.stats.alpha import MAX_EXPECTED_PAIRS, binary_alpha, pairwise_disagreement
from consistency.metrics.stats.counts import class_codes

#: Answer sets are packed into int64 bit masks up to this many classes (bit 63 is the sign).
MAX_BITMASK_CLASSES = 62


class MultiLabelCounts(NamedTuple):
    """Per-item tallies of multi-class answers.

    Attributes
    ----------
    items : (n_items,) distinct items, sorted when sortable.
    chosen : (n_items, n_classes) int64, answers on the item that chose each class.
    answers : (n_items,) int64, answers on the item (including empty ones).
    masks : (n_answers,) int64 bit mask of each answer's classes (bit c = class c), or None
        beyond :data:`MAX_BITMASK_CLASSES` classes.
    answer_item : (n_answers,) int64 item code of each answer (row order of the frame).
    """

    items: AnyArray
    chosen: IntArray
    answers: IntArray
    masks: IntArray | None
    answer_item: IntArray


def multilabel_counts(frame: pd.DataFrame, classes: Sequence[str]) -> MultiLabelCounts:
    """Tally multi-class answers without a Python loop over answers.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (value = list of classes).
    classes : ordered class list (n_classes,); a chosen class outside it raises ``ValueError``.

    Returns
    -------
    MultiLabelCounts
    """
    check_frame(frame, min_labelers=1, allow_missing_values=True)  # None: none of the classes
    classes = list(classes)
    item_codes, items = factorize(frame["item"])
    q, n_items, n_answers = len(classes), len(items), len(frame)
    exploded = pd.Series(frame["value"].to_numpy(), index=np.arange(n_answers)).explode()
    exploded = exploded[exploded.notna()]
    answer = exploded.index.to_numpy(dtype=np.int64)
    codes = class_codes(exploded, classes) if len(exploded) else np.zeros(0, dtype=np.int64)
    pairs = np.unique(answer * q + codes)  # a class repeated inside one answer counts once
    answer, codes = pairs // q, pairs % q
    item_of = item_codes
    chosen = np.bincount(item_of[answer] * q + codes, minlength=n_items * q).reshape(n_items, q)
    masks: IntArray | None = None
    if q <= MAX_BITMASK_CLASSES:
        masks = np.zeros(n_answers, dtype=np.int64)
        np.bitwise_or.at(masks, answer, np.left_shift(np.int64(1), codes))
    return MultiLabelCounts(
        items=np.asarray(items),
        chosen=chosen,
        answers=np.bincount(item_of, minlength=n_items),
        masks=masks,
        answer_item=item_of,
    )


def jaccard_distance(a: AnyArray, b: AnyArray) -> FloatArray:
    """Jaccard distance between bit-mask answer sets, elementwise.

    Parameters
    ----------
    a, b : (p,) int64 bit masks (object arrays of ints are accepted).

    Returns
    -------
    (p,) float64 in [0, 1]; 0 where both sets are empty.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    union = np.bitwise_count(a | b).astype(np.float64)
    inter = np.bitwise_count(a & b).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        distance: FloatArray = np.where(union > 0, 1.0 - inter / union, 0.0)
    return distance


def _set_distance(a: frozenset[Any], b: frozenset[Any]) -> float:
    union = len(a | b)
    return 1.0 - len(a & b) / union if union else 0.0


def jaccard_alpha(
    frame: pd.DataFrame,
    classes: Sequence[str],
    *,
    max_expected_pairs: int = MAX_EXPECTED_PAIRS,
    seed: int = 0,
) -> float:
    """Krippendorff's alpha of answer sets with the Jaccard distance (see the module docstring).

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (value = list of classes).
    classes : ordered class list.
    max_expected_pairs, seed : as in :func:`consistency.metrics.stats.alpha.pairwise_disagreement`.

    Returns
    -------
    float; ``nan`` when every answer is the same set.
    """
    check_frame(frame, min_labelers=2, allow_missing_values=True)
    tallies = multilabel_counts(frame, classes)
    if tallies.masks is not None:
        values = pd.Series(tallies.masks, index=tallies.answer_item)
        return pairwise_disagreement(
            values, jaccard_distance, vectorized=True, max_expected_pairs=max_expected_pairs, seed=seed
        ).alpha
    sets = frame["value"].map(
        lambda v: frozenset([v] if isinstance(v, str) else (v if v is not None else ()))
    )
    values = pd.Series(sets.to_numpy(), index=tallies.answer_item)
    return pairwise_disagreement(
        values, _set_distance, max_expected_pairs=max_expected_pairs, seed=seed
    ).alpha


def multilabel_per_class(frame: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """Binary alpha (chosen vs not) and support of each class.

    Returns
    -------
    DataFrame indexed by class with columns ``alpha`` (NaN where undefined) and ``support``
    (answers choosing the class).
    """
    tallies = multilabel_counts(frame, classes)
    return _per_class(tallies, list(classes))


def _per_class(tallies: MultiLabelCounts, classes: list[str]) -> pd.DataFrame:
    try:
        alphas = binary_alpha(tallies.chosen, tallies.answers)
    except ValueError:  # fewer than two items with two answers
        alphas = np.full(len(classes), np.nan)
    return pd.DataFrame(
        {"alpha": alphas, "support": tallies.chosen.sum(axis=0).astype(np.int64)},
        index=pd.Index(classes, name="class"),
    )


def weighted_alpha(per_class: pd.DataFrame) -> float:
    """Support-weighted mean of the defined per-class alphas (``nan`` if none is defined)."""
    ok = np.isfinite(per_class["alpha"]) & (per_class["support"] > 0)
    if not ok.any():
        return float("nan")
    return float(np.average(per_class["alpha"][ok], weights=per_class["support"][ok]))


def multilabel_agreement(frame: pd.DataFrame, classes: Sequence[str], *, seed: int = 0) -> dict[str, Any]:
    """Per-class binary alpha, support-weighted overall alpha, Jaccard alpha, per-item figures.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (value = list of classes).
    classes : ordered class list (n_classes,).
    seed : seed of the Jaccard alpha's D_e sample (used only on large, varied data).

    Returns
    -------
    dict with
        ``alpha`` (support-weighted mean of per-class alphas), ``jaccard_alpha`` (``nan`` when
        fewer than two items have two answers), ``per_class`` (list of {class, alpha, support}),
        ``items`` (n_items,), ``answers`` (n_items,), ``item_agreement`` (n_items,: share of
        agreeing (labeler pair, class) decisions, NaN below two answers), ``consensus``
        (:func:`consistency.metrics.multilabel.consensus.multilabel_consensus`) and
        ``items_measured`` (items with ≥ 2 answers).
    """
    classes = list(classes)
    tallies = multilabel_counts(frame, classes)
    per_class = _per_class(tallies, classes)
    chosen, answers = tallies.chosen, tallies.answers
    m = answers[:, None]
    agree = (chosen * (chosen - 1) + (m - chosen) * (m - chosen - 1)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        item_agreement = np.where(answers >= 2, agree / (len(classes) * answers * (answers - 1.0)), np.nan)
    consensus = multilabel_consensus(chosen, answers, classes)
    try:
        set_alpha = jaccard_alpha(frame, classes, seed=seed)
    except ValueError:
        set_alpha = float("nan")
    return {
        "alpha": weighted_alpha(per_class),
        "jaccard_alpha": set_alpha,
        "per_class": [
            {"class": name, "alpha": float(row.alpha), "support": int(row.support)}
            for name, row in zip(classes, per_class.itertuples(), strict=True)
        ],
        "items": tallies.items,
        "item_agreement": item_agreement,
        "consensus": consensus,
        "answers": answers,
        "items_measured": int((answers >= 2).sum()),
    }
