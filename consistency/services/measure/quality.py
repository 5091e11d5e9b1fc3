"""The likely-wrong ranking in a run: CROWDLAB scores of the run's consensus per item and the
quality of each labeler (``consistency.metrics.categorical.label_quality``)."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from consistency.metrics.categorical.consensus import majority_from_counts
from consistency.metrics.categorical.label_quality import label_quality
from consistency.services.measure.common import finite, gold_items, winner_classes


@dataclass(frozen=True)
class RunQuality:
    items: pd.Series  # item → score of its consensus (NaN: a tie, or nothing to score)
    labelers: pd.Series  # labeler → quality
    model_weight: float


def run_label_quality(answered, items, counts, classes, ds_result, params, probabilities) -> RunQuality:
    """Scores of the consensus the run reports (majority or Dawid–Skene); all NaN when nothing
    can be scored yet (no item with two answers, or a single class). ``ds_result``, Dawid–Skene's
    consensus frame, is read only when the run's consensus is theirs (None otherwise)."""
    if params.consensus == "dawid_skene":
        labels = ds_result["value"].reindex(items)
    else:
        winner, _, _ = majority_from_counts(counts)
        labels = pd.Series(winner_classes(winner, classes), index=items)
    try:
        scored = label_quality(
            answered,
            labels=labels,
            probabilities=probabilities,
            classes=classes,
        )
    except ValueError:
        return RunQuality(pd.Series(np.nan, index=items), pd.Series(dtype=float), 0.0)
    return RunQuality(scored.items["quality"], scored.labelers["quality"], scored.model_weight)


def label_quality_summary(quality: RunQuality, labeler_rows: list[dict], gold: dict, probabilities) -> dict:
    """The report's ``label_quality`` block; adds ``quality`` to each labeler row."""
    scores = quality.items.drop(index=gold_items(gold), errors="ignore")
    for row in labeler_rows:
        row["quality"] = finite(quality.labelers.get(row["labeler_id"], np.nan))
    return {
        "method": "crowdlab",
        "with_model": probabilities is not None and not probabilities.empty,
        "model_weight": finite(quality.model_weight),
        "scored_items": int(scores.notna().sum()),
        "likely_wrong": int((scores < 0.5).sum()),
    }
