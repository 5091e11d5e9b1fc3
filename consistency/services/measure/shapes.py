"""Boxes and multi-class answers: their agreement figures and consensus per item."""

import time
from collections.abc import Iterator
from typing import Any

from consistency.metrics.boxes.agreement import box_agreement
from consistency.metrics.boxes.consensus import fuse_boxes
from consistency.metrics.multilabel.agreement import multilabel_agreement
from consistency.services.measure.common import (
    alpha_meaning,
    base_counts,
    finite,
    not_enough,
    shape_result,
    simple_labelers,
    skips_per_item,
)
from consistency.services.measure.hlp import hlp_section_scored


def measure_boxes(*, frame, classes, gold, params, slices=None):
    started = time.perf_counter()
    answered, counts_info = base_counts(frame)
    if answered.empty:
        return not_enough(counts_info, "No answers yet."), iter(())
    try:
        measured = box_agreement(answered, seed=params.seed)
    except ValueError as exc:
        return not_enough(counts_info, str(exc).capitalize() + "."), iter(())
    per_item = measured.pop("per_item").set_index("item")
    counts_info |= {
        "items_measured": int((per_item["n"] >= 2).sum()),
        "items_excluded": int((per_item["n"] < 2).sum()),
    }
    report: dict[str, Any] = {
        "kind": "boxes",
        "counts": counts_info,
        "overall": {
            "level": "1 − IoU",
            "alpha": finite(measured["alpha"]) if measured["alpha"] is not None else None,
            "alpha_ci": None,
            "meaning": alpha_meaning(measured["alpha"]),
            "extra": {
                f"mean IoU of matched boxes (≥ {measured['threshold']})": measured["mean_iou"],
                "labeler pairs drawing as many boxes": measured["count_agreement"],
                "class agreement of matched boxes": measured["class_agreement"],
                "matched share of boxes": measured["match_rate"],
            },
        },
        "labelers": simple_labelers(frame, answered),
        "consensus": {"method": "fused boxes"},
    }
    report["hlp"] = hlp_section_scored(
        label_kind="boxes",
        answered=answered,
        gold=gold,
        slices=slices,
        params=params,
        labeler_rows=report["labelers"],
    )
    report["timing"] = {"seconds": round(time.perf_counter() - started, 3)}
    skipped = skips_per_item(frame)
    answers = answered.groupby("item")["value"].apply(list)

    def results() -> Iterator[dict]:
        for item, boxes in answers.items():
            fused, confidence = fuse_boxes(boxes)
            yield shape_result(
                item_id=int(item),
                n_answers=len(boxes),
                n_skipped=int(skipped.get(item, 0)),
                consensus=fused,
                method="fused",
                confidence=confidence,
                agreement=finite(per_item.loc[item, "agreement"]),
            )

    return report, results()


def measure_multi(*, frame, classes, gold, params):
    started = time.perf_counter()
    answered, counts_info = base_counts(frame)
    if answered.empty:
        return not_enough(counts_info, "No answers yet."), iter(())
    measured = multilabel_agreement(answered, classes)
    counts_info |= {
        "items_measured": measured["items_measured"],
        "items_excluded": int((measured["answers"] < 2).sum()),
    }
    if measured["items_measured"] < 2:
        return not_enough(counts_info, "Fewer than two items have two or more answers."), iter(())
    report: dict[str, Any] = {
        "kind": "multi_classes",
        "counts": counts_info,
        "overall": {
            "level": "binary per class, support-weighted",
            "alpha": finite(measured["alpha"]),
            "alpha_ci": None,
            "meaning": alpha_meaning(measured["alpha"]),
        },
        "per_class": [
            {
                "class": r["class"],
                "alpha": finite(r["alpha"]),
                "support": r["support"],
                "most_confused_with": None,
                "confusions": 0,
            }
            for r in measured["per_class"]
        ],
        "labelers": simple_labelers(frame, answered),
        "consensus": {"method": "majority per class"},
        "timing": {"seconds": round(time.perf_counter() - started, 3)},
    }
    skipped = skips_per_item(frame)

    def results() -> Iterator[dict]:
        for i, item in enumerate(measured["items"].tolist()):
            pair = finite(measured["item_agreement"][i])
            yield shape_result(
                item_id=item,
                n_answers=int(measured["answers"][i]),
                n_skipped=int(skipped.get(item, 0)),
                consensus=measured["consensus"][i],
                method="majority",
                confidence=pair,
                agreement=pair,
            )

    return report, results()
