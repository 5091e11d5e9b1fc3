"""HLP sections of the run reports, one shape for every kind of project, so the Labelers page and
the gap-to-HLP table read them alike: leave-one-out agreement for classes and ratings
(:func:`hlp_section_categorical`), word accuracy or box F1 for transcripts and boxes
(:func:`hlp_section_scored`)."""

import contextlib

import numpy as np
import pandas as pd

from consistency.metrics.boxes.hlp import box_hlp
from consistency.metrics.categorical.hlp import HLPReport, human_level_performance
from consistency.metrics.stats.scores import ScoreHLP
from consistency.metrics.transcripts.hlp import transcript_hlp
from consistency.services.measure.common import finite, gold_series, plain

# A labeler is flagged 0.15 under the median labeler, as for categorical HLP.
FLAG_BELOW_MEDIAN = 0.15


def _rates(table: pd.DataFrame) -> list[dict]:
    return [
        {
            "value": str(value),
            "n": int(row["n"]),
            "rate": finite(row["rate"]),
            "low": finite(row["low"]),
            "high": finite(row["high"]),
        }
        for value, row in table.iterrows()
        if row["n"] > 0
    ]


def _scored_report(result: ScoreHLP, labeler_rows: list[dict]) -> dict:
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
            "loo_rate": finite(scored["rate"]),
            "loo_low": finite(scored["low"]),
            "loo_high": finite(scored["high"]),
        }
        if with_gold and scored["gold_n"] > 0:
            row |= {"gold_n": int(scored["gold_n"]), "gold_rate": finite(scored["gold_rate"])}
        row["flagged"] = bool(
            typical is not None
            and row["loo_rate"] is not None
            and row["loo_rate"] < typical - FLAG_BELOW_MEDIAN
        )
    project = result.project
    return {
        "measure": result.measure,
        "project": {
            "hlp": finite(project["hlp"]),
            "low": finite(project["low"]),
            "high": finite(project["high"]),
            "n": int(project["n"]),
            "two_random_agree": None,
            "gold_accuracy": finite(project["gold_accuracy"]) if with_gold else None,
        },
        "per_class": [],
        "per_slice": {field: _rates(table) for field, table in result.per_slice.items()},
    }


def _slices(slices):
    return slices if slices is not None and not slices.empty else None


def hlp_section_scored(*, label_kind, answered, gold, slices, params, labeler_rows, rules=()) -> dict | None:
    """HLP of a transcription project (word accuracy, 1 − WER) or a box project (class-aware F1
    at IoU ≥ 0.5), each labeler against the others; None below two labelers."""
    answers = answered[["item", "labeler", "value"]]
    common = {
        "gold": gold_series(gold),
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
    return _scored_report(result, labeler_rows)


def hlp_categorical(*, answered, gold: dict, slices, params) -> HLPReport:
    """The figures of the categorical report's ``hlp`` section (:func:`hlp_section_categorical`)."""
    return human_level_performance(
        answered,  # read by column name: no copy of the three columns
        gold=gold_series(gold),
        slices=_slices(slices),
        n_boot=max(0, min(params.bootstrap, 1000)),
        seed=params.seed,
    )


def hlp_section_categorical(*, result: HLPReport, gold: dict, slices, labeler_rows: list[dict]) -> dict:
    """The categorical report's ``hlp`` section (leave-one-out agreement) from
    :func:`hlp_categorical`'s figures; adds each labeler's figures and ``flagged`` to
    ``labeler_rows``."""
    with_gold = gold_series(gold) is not None
    by_labeler = _hlp_labelers(result.labelers, result.confusions, with_gold)
    rates = [r["loo_rate"] for r in by_labeler.values() if r.get("loo_rate") is not None]
    typical = float(np.median(rates)) if rates else None
    for row in labeler_rows:
        hlp = by_labeler.get(row["labeler_id"], {})
        row.update(hlp)
        row["flagged"] = bool(
            typical is not None
            and hlp.get("loo_rate") is not None
            and hlp["loo_rate"] < typical - FLAG_BELOW_MEDIAN
        )
    project = result.project
    return {
        "project": {
            "hlp": finite(project["hlp"]),
            "low": finite(project["hlp_low"]),
            "high": finite(project["hlp_high"]),
            "n": int(project["loo_n"]),
            "excluded_answers": int(project["loo_ties"]) + int(project["loo_alone"]),
            "two_random_agree": finite(project["two_random_agree"]),
            "gold_accuracy": finite(project["gold_accuracy"]) if with_gold else None,
        },
        "per_class": [
            {"class": plain(name), **rates}
            for name, rates in _hlp_rates(result.per_class, "loo_n", "loo_agreement", "loo_low", "loo_high")
        ],
        "per_slice": _hlp_slices(result.per_slice, slices),
    }


def _count(value) -> int | None:
    """A count for the report; None where there is nothing (as the report has always said)."""
    return int(value) if value is not None and np.isfinite(value) and value > 0 else None


def _hlp_rates(table: pd.DataFrame, n: str, rate: str, low: str, high: str) -> list[tuple]:
    """(index, {n, rate, low, high}) for the rows with at least one scored answer, sorted."""
    table = table[table[n] > 0]
    with contextlib.suppress(TypeError):  # values of mixed types that do not order stay as they are
        table = table.sort_index()
    return [
        (
            index,
            {
                "n": int(row[n]),
                "rate": finite(row[rate]),
                "low": finite(row[low]),
                "high": finite(row[high]),
            },
        )
        for index, row in zip(table.index, table.to_dict("records"), strict=True)
    ]


def _hlp_labelers(table: pd.DataFrame, confusions: pd.DataFrame, with_gold: bool) -> dict:
    """labeler → answers, loo_n/rate/low/high, gold_n/rate/low/high (with gold) and, when any
    answer disagrees with its reference, the labeler's most frequent confusion (``confusions``:
    labeler, reference, value, n, as ``HLPReport.confusions``)."""
    out = {}
    for labeler, row in zip(table.index, table.to_dict("records"), strict=True):
        entry = {
            "answers": int(row["n_answers"]),
            "loo_n": _count(row["loo_n"]),
            "loo_rate": finite(row["loo_agreement"]),
            "loo_low": finite(row["loo_low"]),
            "loo_high": finite(row["loo_high"]),
        }
        if with_gold:
            entry |= {
                "gold_n": _count(row["gold_n"]),
                "gold_rate": finite(row["gold_accuracy"]),
                "gold_low": finite(row["gold_low"]),
                "gold_high": finite(row["gold_high"]),
            }
        out[plain(labeler)] = entry
    if len(confusions):
        # The group-by orders (labeler, reference, value) as it always has: ties between equally
        # frequent confusions fall the same way.
        pairs = confusions.groupby(["labeler", "reference", "value"])["n"].sum().rename("n").reset_index()
        pairs = pairs.sort_values(["labeler", "n"], ascending=[True, False], kind="stable")
        top = pairs.drop_duplicates("labeler").set_index("labeler")
        for labeler, entry in out.items():
            found = labeler in top.index
            entry |= {
                "confuses": top.at[labeler, "reference"] if found else None,
                "answers_instead": top.at[labeler, "value"] if found else None,
                "confusions": int(top.at[labeler, "n"]) if found else None,
            }
    return out


def _hlp_slices(per_slice: pd.DataFrame, slices) -> dict:
    """field → [{value, n, rate, low, high}] over the items that have a value for the field."""
    out = {}
    for field in per_slice.index.get_level_values("field").unique():
        table = per_slice.xs(field, level="field")
        if "(none)" not in set(slices[field].dropna()):
            table = table.drop(index="(none)", errors="ignore")  # items without a value
        rows = [
            {"value": plain(value), **rates}
            for value, rates in _hlp_rates(table, "loo_n", "hlp", "hlp_low", "hlp_high")
        ]
        if rows:
            out[str(field)] = rows
    return out
