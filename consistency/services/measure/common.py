"""Shared pieces of the measuring pipelines: parameters, the headline sentence, number hygiene."""

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from consistency.metrics.stats.alpha import LEVELS as ALPHA_LEVELS
from consistency.metrics.stats.alpha import Level, alpha_from_coincidences, distance_matrix
from consistency.metrics.stats.bootstrap import bootstrap_alpha
from consistency.metrics.stats.counts import coincidences
from consistency.report import ConsensusMethod

LEVELS: list[Level] = list(ALPHA_LEVELS)
CONSENSUS_METHODS: list[ConsensusMethod] = ["majority", "dawid_skene"]


def consensus_method(name: str) -> ConsensusMethod:
    """A stored method name (``Project.consensus_method``) as one of ``CONSENSUS_METHODS``."""
    for method in CONSENSUS_METHODS:
        if method == name:
            return method
    raise ValueError(f"unknown consensus method {name!r}")


@dataclass(frozen=True)
class RunParams:
    level: Level = "nominal"
    consensus: ConsensusMethod = "majority"
    bootstrap: int = 1000
    seed: int = 0

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"unknown level {self.level!r}; one of {', '.join(LEVELS)}")
        if self.consensus not in CONSENSUS_METHODS:
            raise ValueError(f"unknown consensus method {self.consensus!r}")

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "RunParams":
        known = {k: v for k, v in (data or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


def alpha_meaning(value: float | None) -> str:
    """One sentence on what the headline number means (Krippendorff's own thresholds)."""
    if value is None or not np.isfinite(value):
        return "Not enough paired answers to measure agreement."
    if value >= 0.8:
        return "Reliable: labelers agree far beyond chance (Krippendorff asks ≥ 0.800 for firm conclusions)."
    if value >= 0.667:
        return "Tentative: usable for exploration; tighten the label definitions before training on it."
    if value > 0:
        return "Unreliable: labelers often disagree; review the confused classes and the definitions."
    return "No agreement beyond chance: the labels are not measuring the same thing."


def finite(value: Any) -> float | None:
    """``value`` as a float for a report, None when it is missing, NaN or infinite."""
    return float(value) if value is not None and np.isfinite(value) else None


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON writes (other values unchanged)."""
    return value.item() if isinstance(value, np.generic) else value


def safe(fn: Any, *args: Any, **kwargs: Any) -> float | None:
    """``finite(fn(...))``, None when the metric refuses the data (``ValueError``)."""
    try:
        return finite(fn(*args, **kwargs))
    except ValueError:
        return None


def winner_classes(winner: np.ndarray, classes) -> np.ndarray:
    """The class name of each winner index (n,), None where there is no winner (-1)."""
    names = np.asarray(classes, dtype=object)
    return np.where(winner >= 0, names[np.maximum(winner, 0)], np.array(None, dtype=object))


def gold_items(gold: dict[Any, Any]) -> list[Any]:
    """The items with a gold answer (``gold`` maps item → gold value or None)."""
    return [item for item, value in gold.items() if value is not None]


def gold_series(gold: dict[Any, Any]) -> pd.Series | None:
    """Gold answers as a Series item → value (object dtype), None without any."""
    series = pd.Series({item: gold[item] for item in gold_items(gold)}, dtype=object)
    return series if len(series) else None


def report_alpha(counts: np.ndarray, level: Level = "nominal", values=None) -> float:
    """Krippendorff's alpha as reports give it: 1.0 (the metrics core says NaN) when every
    pairable value is the same, and defined from two pairable values (one item with two
    answers) on; ``ValueError`` below that."""
    o = coincidences(counts)
    value = alpha_from_coincidences(o, distance_matrix(level, o.shape[0], values, o.sum(axis=1)))
    return 1.0 if np.isnan(value) else value


def report_alpha_interval(
    counts: np.ndarray, level: Level = "nominal", values=None, *, n_boot: int, seed: int
) -> tuple[float, float]:
    """Bootstrap interval of :func:`report_alpha` (resamples without variation count as 1.0);
    (NaN, NaN) without resamples or with fewer than two pairable items."""
    counts = np.asarray(counts)
    if n_boot <= 0 or (counts.sum(axis=1) >= 2).sum() < 2:
        return float("nan"), float("nan")
    result = bootstrap_alpha(counts, level, values, n_boot=n_boot, seed=seed, no_variation=1.0)
    return result.low, result.high


def not_enough(counts_info: dict, why: str) -> dict:
    """A report that only says why there is nothing to measure yet."""
    return {
        "kind": "categorical",
        "counts": counts_info,
        "overall": {"alpha": None, "meaning": why},
        "not_enough_data": why,
    }


def base_counts(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The answers to measure (neither skipped nor waiting for a relabel) and the report's counts.

    ``answered`` is ``frame`` itself when every answer counts (the usual case on large
    projects): a boolean selection would copy every column of millions of rows."""
    keep = ~frame["skipped"].to_numpy(dtype=bool) & ~frame["needs_relabel"].to_numpy(dtype=bool)
    answered = frame if keep.all() else frame[keep]
    return answered, {
        "answers": len(answered),
        "skipped_answers": int(frame["skipped"].sum()),
        "needs_relabel": int(frame["needs_relabel"].sum()),
        "labelers": int(answered["labeler"].nunique()),
        "items_with_answers": int(answered["item"].nunique()),
    }


def simple_labelers(frame: pd.DataFrame, answered: pd.DataFrame) -> list[dict]:
    """Per labeler: answers and skips, in labeler order."""
    answers = answered.groupby("labeler").size()
    skips = frame[frame["skipped"]].groupby("labeler").size()
    return [
        {
            "labeler_id": int(labeler),
            "answers": int(answers.get(labeler, 0)),
            "skips": int(skips.get(labeler, 0)),
        }
        for labeler in sorted(set(answers.index) | set(skips.index))
    ]


def skips_per_item(frame: pd.DataFrame) -> pd.Series:
    """Skipped answers per item (items without one are absent)."""
    return frame[frame["skipped"]].groupby("item").size()


def shape_result(
    *,
    item_id: int,
    n_answers: int,
    n_skipped: int,
    consensus: Any,
    method: str,
    confidence: float | None,
    agreement: float | None,
) -> dict[str, Any]:
    """One item's result fields for boxes, multi-classes and transcripts: the answers' consensus
    by the kind's one method (gold is a label of its own), never a tie."""
    return {
        "item_id": item_id,
        "n_answers": n_answers,
        "n_skipped": n_skipped,
        "consensus": consensus,
        "method": method,
        "confidence": confidence,
        "agreement": agreement,
        "disagreement": 0.0 if agreement is None else round(1.0 - agreement, 6),
        "is_tie": False,
        "by_method": {method: {"value": consensus, "confidence": confidence}},
    }
