"""Transcriptions: normalized exact match, 1 − WER / 1 − CER, alpha with an edit distance, medoid."""

import time
from collections.abc import Iterator
from typing import Any

from consistency.metrics.transcripts.agreement import transcript_agreement
from consistency.metrics.transcripts.consensus import medoid
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


def measure_transcription(*, frame, slices, gold, rules, params):
    started = time.perf_counter()
    answered, counts_info = base_counts(frame)
    if answered.empty:
        return not_enough(counts_info, "No answers yet."), iter(())
    try:
        measured = transcript_agreement(answered, rules, seed=params.seed)
    except ValueError as exc:
        return not_enough(counts_info, str(exc).capitalize() + "."), iter(())
    per_item = measured.pop("per_item").set_index("item")
    counts_info |= {
        "items_measured": int(measured["items_measured"]),
        "items_excluded": int((per_item["n"] < 2).sum()),
    }
    overall = {
        "level": "edit distance",
        "alpha": finite(measured["alpha"]),
        "alpha_ci": None,
        "meaning": alpha_meaning(measured["alpha"]),
        "extra": {
            "exact match (normalized)": measured["exact_match"],
            "mean 1 − WER": measured["word_similarity"],
            "mean 1 − CER": measured["char_similarity"],
        },
    }
    slice_rows = {}
    if slices is not None and not slices.empty:
        for field in slices.columns:
            rows = []
            for value in slices[field].dropna().unique():
                members = slices.index[slices[field] == value]
                sub = answered[answered["item"].isin(members)]
                try:
                    m = transcript_agreement(sub, rules, seed=params.seed)
                    rows.append(
                        {
                            "value": str(value),
                            "items": len(members),
                            "items_measured": m["items_measured"],
                            "alpha": finite(m["alpha"]),
                            "percent_agreement": finite(m["exact_match"]),
                        }
                    )
                except ValueError:
                    rows.append(
                        {
                            "value": str(value),
                            "items": len(members),
                            "alpha": None,
                            "percent_agreement": None,
                        }
                    )
            slice_rows[str(field)] = sorted(rows, key=lambda r: (r["alpha"] is None, r["alpha"] or 0))
    report: dict[str, Any] = {
        "kind": "transcription",
        "counts": counts_info,
        "overall": overall,
        "labelers": simple_labelers(frame, answered),
        "slices": slice_rows,
        "rules": list(rules),
        "consensus": {"method": "medoid"},
        "timing": {"seconds": round(time.perf_counter() - started, 3)},
    }
    report["hlp"] = hlp_section_scored(
        label_kind="transcription",
        answered=answered,
        gold=gold,
        slices=slices,
        rules=rules,
        params=params,
        labeler_rows=report["labelers"],
    )
    report["timing"] = {"seconds": round(time.perf_counter() - started, 3)}
    skipped = skips_per_item(frame)
    texts = answered.groupby("item")["value"].apply(list)

    def results() -> Iterator[dict]:
        for item, values in texts.items():
            text, confidence = medoid([str(v) for v in values], rules)
            row = per_item.loc[item]
            yield shape_result(
                item_id=int(item),
                n_answers=int(row["n"]),
                n_skipped=int(skipped.get(item, 0)),
                consensus=text,
                method="medoid",
                confidence=finite(confidence),
                agreement=finite(row["agreement"]),
            )

    return report, results()
