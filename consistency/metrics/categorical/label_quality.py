"""Likely-wrong labels first: CROWDLAB's label-quality score per item and quality per labeler.

CROWDLAB (Goh, Tkachenko and Mueller, 2022, "CROWDLAB: Supervised learning to infer consensus
labels and quality scores for data with multiple annotators") estimates, for every item, the
probability that its label is right by a weighted average of two sources:

* each answer, as a soft vote: ``c`` (the mean share of answers that agree with the label on
  items with two or more answers) on the class it names and ``(1 − c) / (k − 1)`` on every
  other class, weighted by its labeler's weight ``w_j = 1 − (1 − a_j) / e``, where ``a_j`` is
  the labeler's agreement with the *other* answers on shared items and ``e`` the error of
  always answering the most common label (so a labeler no better than that gets ~0);
* the model's predicted probabilities, weighted by ``w_m = (1 − err_m / e) · √(mean answers per
  item)``, ``err_m`` the model's disagreement with the labels (only when probabilities exist).

The score of an item is the weighted posterior of its label; low scores are likely wrong.
A labeler's quality mixes the mean score of their own answers and their agreement with the
labels, weighted by the model's share of the total weight. Weights are clipped at 1e-6.

This is the algorithm of ``cleanlab.multiannotator.get_label_quality_multiannotator``
(``quality_method="crowdlab"``), vectorized, with two differences that matter to Concord:
the label scored is the one given (the run's consensus: a tie is no label and gets no score,
where cleanlab breaks ties with the model), and items without model probabilities (a model
that saw only part of the data) fall back to the answers alone instead of being refused.
``tests/consistency/metrics/categorical/test_label_quality.py`` compares rankings with cleanlab.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from consistency.metrics.arrays import BoolArray, FloatArray, IntArray
from consistency.metrics.frames import Encoded, encode

CLIP = 1e-6
PROBABILITY_TOLERANCE = 1e-3


@dataclass(frozen=True)
class LabelQuality:
    """items : DataFrame indexed by item: label, quality (NaN without a label), agreement
        (share of the item's answers equal to the label), n_answers.
    labelers : DataFrame indexed by labeler: quality, agreement_with_labels, weight, n_answers.
    model_weight : the model's weight (0.0 without probabilities).
    """

    items: pd.DataFrame
    labelers: pd.DataFrame
    model_weight: float


def check_probabilities(probabilities: pd.DataFrame, classes: Sequence[Hashable]) -> pd.DataFrame:
    """The model's probabilities aligned to ``classes`` (missing classes are 0).

    probabilities : DataFrame items × class names, each row summing to 1 (± 1e-3), no NaN.
    ValueError naming the offending rows or classes otherwise.
    """
    unknown = [c for c in probabilities.columns if c not in set(classes)]
    if unknown:
        raise ValueError(f"probabilities for unknown classes: {unknown[:5]}")
    values = probabilities.reindex(columns=list(classes), fill_value=0.0).astype(float)
    array = values.to_numpy()
    bad = ~np.isfinite(array).all(axis=1) | (array < 0).any(axis=1)
    bad |= np.abs(array.sum(axis=1) - 1) > PROBABILITY_TOLERANCE
    if bad.any():
        raise ValueError(f"probability rows that are not distributions: {list(values.index[bad][:5])}")
    checked: pd.DataFrame = values
    return checked


def label_quality(
    frame: pd.DataFrame,
    *,
    labels: pd.Series | None = None,
    probabilities: pd.DataFrame | None = None,
    classes: Sequence[Hashable] | None = None,
) -> LabelQuality:
    """CROWDLAB scores (module docstring).

    Parameters
    ----------
    frame : answers, columns item, labeler, value (one per labeler and item; skips left out).
    labels : Series item → the label to score (e.g. the consensus; None/NaN = no label).
        Default: the majority vote, a tie giving no label.
    probabilities : optional DataFrame items × classes of model probabilities (rows sum to 1);
        items it lacks are scored from the answers alone.
    classes : class order; default the answered classes (and those of ``probabilities``).
    """
    if classes is None:
        extra = list(probabilities.columns) if probabilities is not None else []
        classes = sorted(set(frame["value"]) | set(extra))
    encoded = encode(frame, classes=classes, compact=True)  # narrow codes: a quarter of the memory
    n_items, k = encoded.n_items, encoded.n_classes
    if k < 2:
        raise ValueError("label quality needs at least two classes")
    counts = encoded.counts()
    n_answers = counts.sum(axis=1)
    label = _label_codes(labels, counts, encoded)
    has_label = label >= 0
    rows = np.arange(n_items)
    agree = np.where(has_label, counts[rows, np.maximum(label, 0)], 0)
    agreement = np.where(has_label, agree / n_answers, np.nan)

    multi = (n_answers > 1) & has_label
    if not multi.any():
        raise ValueError("label quality needs items with two or more answers and a label")
    likely = float(agreement[multi].mean())
    unlikely = (1 - likely) / (k - 1)
    common = np.bincount(label[multi], minlength=k).argmax()
    base_error = max(float(np.mean(label[multi] != common)), CLIP)

    weight = _labeler_weights(encoded, counts, n_answers, base_error)
    answer_weight = weight[encoded.labeler]
    total = np.bincount(encoded.item, weights=answer_weight, minlength=n_items)
    for_class = _weighted_counts(encoded, answer_weight, n_items, k)
    votes = for_class * likely + (total[:, None] - for_class) * unlikely

    model_probs, has_model = _aligned(probabilities, encoded)
    model_weight = 0.0
    scored = multi & has_model
    if scored.any():
        model_error = float(np.mean(model_probs[scored].argmax(axis=1) != label[scored]))
        model_weight = max(1 - model_error / base_error, CLIP) * float(np.sqrt(n_answers.mean()))
    item_model_weight = np.where(has_model, model_weight, 0.0)
    posterior = (item_model_weight[:, None] * model_probs + votes) / (item_model_weight + total)[:, None]
    quality = np.where(has_label, posterior[rows, np.maximum(label, 0)], np.nan)

    items = pd.DataFrame(
        {
            "label": encoded.class_values(label),
            "quality": quality,
            "agreement": agreement,
            "n_answers": n_answers,
        },
        index=pd.Index(encoded.items, name="item"),
    )
    labelers = _labeler_quality(encoded, posterior, label, multi, weight, model_weight, n_answers)
    return LabelQuality(items=items, labelers=labelers, model_weight=model_weight)


def _label_codes(labels: pd.Series | None, counts: IntArray, encoded: Encoded) -> IntArray:
    if labels is None:
        top = counts.max(axis=1, keepdims=True)
        tie = (counts == top).sum(axis=1) > 1
        majority: IntArray = np.where(tie, -1, counts.argmax(axis=1)).astype(np.int64, copy=False)
        return majority
    aligned = labels.reindex(encoded.items)
    codes = encoded.classes.get_indexer(aligned.to_numpy(dtype=object))
    unknown = aligned.notna().to_numpy() & (codes < 0)
    if unknown.any():
        raise ValueError(f"labels outside the classes: {list(pd.unique(aligned[unknown]))[:5]}")
    return np.asarray(codes, dtype=np.int64)


def _weighted_counts(encoded: Encoded, weights: FloatArray, n_items: int, k: int) -> FloatArray:
    flat = encoded.item.astype(np.int64) * k + encoded.value
    counts = np.bincount(flat, weights=weights, minlength=n_items * k).reshape(n_items, k)
    return np.asarray(counts, dtype=np.float64)  # float64 already: weighted counts


def _labeler_weights(
    encoded: Encoded, counts: IntArray, n_answers: IntArray, base_error: float
) -> FloatArray:
    """w_j from each labeler's agreement with the other answers on the items they share."""
    others = n_answers[encoded.item] - 1
    same = counts[encoded.item, encoded.value] - 1
    pairs = np.bincount(encoded.labeler, weights=others, minlength=encoded.n_labelers)
    agreeing = np.bincount(encoded.labeler, weights=same, minlength=encoded.n_labelers)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = agreeing / pairs
    alone = pairs == 0
    if alone.all():
        raise ValueError("no labeler shares an item with another")
    agreement[alone] = agreement[~alone].mean()  # as cleanlab: the mean of the others
    weights: FloatArray = np.clip(1 - (1 - agreement) / base_error, CLIP, None)
    return weights


def _aligned(probabilities: pd.DataFrame | None, encoded: Encoded) -> tuple[FloatArray, BoolArray]:
    n_items, k = encoded.n_items, encoded.n_classes
    if probabilities is None or probabilities.empty:
        return np.zeros((n_items, k)), np.zeros(n_items, dtype=bool)
    checked = check_probabilities(probabilities, list(encoded.classes))
    aligned = checked.reindex(encoded.items)
    has_model: BoolArray = aligned.notna().all(axis=1).to_numpy()
    return np.nan_to_num(aligned.to_numpy(dtype=float)), has_model


def _labeler_quality(
    encoded: Encoded,
    posterior: FloatArray,
    label: IntArray,
    multi: BoolArray,
    weight: FloatArray,
    model_weight: float,
    n_answers: IntArray,
) -> pd.DataFrame:
    n = encoded.n_labelers
    answers = np.bincount(encoded.labeler, minlength=n)
    own_score = np.bincount(encoded.labeler, weights=posterior[encoded.item, encoded.value], minlength=n)
    on_multi = multi[encoded.item]
    matches = (encoded.value == label[encoded.item]) & on_multi
    shared = np.bincount(encoded.labeler, weights=on_multi, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = own_score / answers
        agreement = np.bincount(encoded.labeler, weights=matches, minlength=n) / shared
    mean_answers = n_answers.mean() / n
    share = model_weight / (model_weight + weight.sum() * mean_answers) if model_weight else 0.0
    return pd.DataFrame(
        {
            "quality": share * mean_score + (1 - share) * agreement,
            "agreement_with_labels": agreement,
            "weight": weight,
            "n_answers": answers,
        },
        index=pd.Index(encoded.labelers, name="labeler"),
    )
