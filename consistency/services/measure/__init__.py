"""From an annotations frame to a run's report and per-item results, through the pure metrics
core. The report's shape is documented in docs/agreement.md."""

from consistency.services.measure.categorical import measure_categorical
from consistency.services.measure.common import CONSENSUS_METHODS, LEVELS, RunParams, consensus_method
from consistency.services.measure.shapes import measure_boxes, measure_multi
from consistency.services.measure.transcription import measure_transcription

CATEGORICAL_KINDS = {"classes", "rating"}

__all__ = [
    "CATEGORICAL_KINDS",
    "CONSENSUS_METHODS",
    "LEVELS",
    "RunParams",
    "consensus_method",
    "measure_project",
]


def measure_project(
    *,
    frame,
    label_kind,
    classes,
    slices,
    gold,
    params: RunParams,
    transcript_rules=(),
    probabilities=None,
    on_results=None,
    results_wanted: bool = True,
):
    """Returns ``(report, results)``: the report dict and an iterator of ItemResult field dicts.

    ``probabilities``: a model's items × classes probabilities (categorical kinds), which join
    the answers in the likely-wrong ranking. ``on_results``: called with the per-item results
    frame as soon as it is known (classes and ratings), so the worker can start writing it.
    ``results_wanted`` False: classes and ratings skip their per-item results (None)."""
    if label_kind == "transcription":
        return measure_transcription(
            frame=frame, slices=slices, gold=gold, rules=transcript_rules, params=params
        )
    if label_kind == "boxes":
        return measure_boxes(frame=frame, classes=classes, gold=gold, params=params, slices=slices)
    if label_kind == "multi_classes":
        return measure_multi(frame=frame, classes=classes, gold=gold, params=params)
    if label_kind not in CATEGORICAL_KINDS:
        raise ValueError(f"agreement for {label_kind} projects is not measured by this version of Concord")
    return measure_categorical(
        frame=frame,
        classes=classes,
        slices=slices,
        gold=gold,
        params=params,
        probabilities=probabilities,
        on_results=on_results,
        results_wanted=results_wanted,
    )
