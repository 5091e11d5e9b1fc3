"""HLP sections of transcript and box reports, in the same shape as the categorical one, so the
Labelers page and the gap-to-HLP table read every kind of project alike."""

import numpy as np
import pandas as pd

from consistency.metrics.hlp_shapes import ShapeHLP, box_hlp, transcript_hlp
from consistency.services.measure.common import _finite

# A labeler is flagged 0.15 under the median labeler, as for categorical HLP.
FLAG_BELOW_MEDIAN = 0.15


def _rates(table: pd.DataFrame) -> list[dict]:
    return [
        {
            "value": str(value),
            "n": int(row["n"]),
            "rate": _finite(row["rate"]),
            "low": _finite(row["low"]),
            "high": _finite(row["high"]),
        }
        for value, row in table.iterrows()
        if row["n"] > 0
    ]


def _report(result: ShapeHLP, labeler_rows: list[dict]) -> dict:
    labelers = result.labelers
    with_gold = result.project["gold_n"] > 0
    rates = labelers["rate"].dropna()
    typical = float(np.median(rates)) if len(rates) else None
    for row in labeler_rows:
        if row["labeler_id"] not in labelers.index:
            continue
        scored = labelers.loc[row["labeler_id"]]
        row |= {
            "loo_n": int(scored["n"]),
            "loo_rate": _finite(scored["rate"]),
            "loo_low": _finite(scored["low"]),
            "loo_high": _finite(scored["high"]),
        }
        if with_gold and scored["gold_n"] > 0:
            row |= {"gold_n": int(scored["gold_n"]), "gold_rate": _finite(scored["gold_rate"])}
        row["flagged"] = bool(
            typical is not None
            and row["loo_rate"] is not None
            and row["loo_rate"] < typical - FLAG_BELOW_MEDIAN
        )
    project = result.project
    return {
        "measure": result.measure,
        "project": {
            "hlp": _finite(project["hlp"]),
            "low": _finite(project["low"]),
            "high": _finite(project["high"]),
            "n": int(project["n"]),
            "two_random_agree": None,
            "gold_accuracy": _finite(project["gold_accuracy"]) if with_gold else None,
        },
        "per_class": [],
        "per_slice": {field: _rates(table) for field, table in result.per_slice.items()},
    }


def _gold_series(gold: dict) -> pd.Series | None:
    series = pd.Series({k: v for k, v in gold.items() if v is not None}, dtype=object)
    return series if len(series) else None


def _slices(slices):
    return slices if slices is not None and not slices.empty else None


def shape_hlp_section(*, label_kind, answered, gold, slices, params, labeler_rows, rules=()) -> dict | None:
    """HLP of a transcription project (word accuracy, 1 − WER) or a box project (class-aware F1
    at IoU ≥ 0.5), each labeler against the others; None below two labelers."""
    answers = answered[["item", "labeler", "value"]]
    common = {
        "gold": _gold_series(gold),
        "slices": _slices(slices),
        "n_boot": max(0, min(params.bootstrap, 1000)),
        "seed": params.seed,
    }
    try:
        if label_kind == "transcription":
            result = transcript_hlp(answers, rules, **common)
        else:
            result = box_hlp(answers, **common)
    except ValueError:
        return None
    return _report(result, labeler_rows)
