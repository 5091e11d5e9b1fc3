"""Classes and ratings: alpha at the chosen level, kappas, AC1, confusion, consensus, HLP."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from consistency.metrics.categorical.agreement import (
    agreement_terms,
    class_confusion,
    cohen_kappa_pairs,
    fleiss_from_terms,
    gwet_from_terms,
    item_pair_agreement,
    per_class_agreement,
)
from consistency.metrics.categorical.consensus import majority_from_counts
from consistency.metrics.categorical.dawid_skene import DawidSkene
from consistency.metrics.frames import factorize, index_of
from consistency.metrics.stats.alpha import Level
from consistency.metrics.stats.counts import pairable, value_counts
from consistency.services.measure.categorical_results import item_results
from consistency.services.measure.common import (
    alpha_meaning,
    base_counts,
    finite,
    not_enough,
    report_alpha,
    report_alpha_interval,
    safe,
    winner_classes,
)
from consistency.services.measure.hlp import hlp_categorical, hlp_section_categorical
from consistency.services.measure.quality import label_quality_summary, run_label_quality
from core.beside import Beside

MIN_SLICE_ITEMS = 2
# Up to this many answers the report's sections and label quality run on threads beside
# Dawid–Skene (below); past it one after the other, as their temporaries would be held at once:
# at 10M answers the worker's peak went from 1,463 to 1,983 MB side by side (the limit is 1.5 GB).
SIDE_BY_SIDE_MAX_ANSWERS = 4_000_000


def _values_for_level(classes: list[str], level: Level) -> list[float] | None:
    if level in ("nominal", "ordinal"):
        return None
    try:
        return [float(c) for c in classes]
    except ValueError as exc:
        raise ValueError(f"{level} alpha needs numeric class names, got {classes}") from exc


def measure_categorical(
    *,
    frame: pd.DataFrame,
    classes: list[str],
    slices: pd.DataFrame,
    gold: dict,
    params,
    probabilities=None,
    on_results: Callable[[pd.DataFrame], bool] | None = None,
    results_wanted: bool = True,
):
    """``on_results`` gets the per-item results as soon as they are known, before the
    report's sections (the worker starts writing them meanwhile: publish.StagedResults); when it
    says it took them (True), they are not kept here and the results returned are None.
    ``results_wanted`` False: the report alone (a run sharing an earlier run's results); the
    results returned are None."""
    started = time.perf_counter()
    answered, counts_info = base_counts(frame)
    if answered.empty:
        return not_enough(counts_info, "No answers yet."), []
    items, counts = value_counts(answered, classes, min_labelers=1)
    measured = pairable(counts)
    counts_info |= {"items_measured": int(measured.sum()), "items_excluded": int((~measured).sum())}
    side_by_side = len(answered) <= SIDE_BY_SIDE_MAX_ANSWERS

    def sections_start() -> Beside[dict] | None:
        # The report's sections need neither the consensus nor the per-item results: on a thread
        # beside them (numpy lets go of the GIL in its loops: at 1M × 3, HLP and Dawid–Skene took
        # 3.7 s one after the other, 2.1 s side by side).
        if measured.sum() < 2:
            return None
        return Beside(
            lambda: _sections(frame, answered, items, counts, classes, slices, gold, params),
            name="report sections",
            reads_database=False,
            on_thread=side_by_side,
        )

    # What the per-item results need comes first, two threads at most: the results' load (the
    # run's longest step, PostgreSQL's) starts as soon as they are known, and the sections run
    # beside it. The metrics read the columns they need by name: no copy of three columns each.
    # No load to start first (Dawid–Skene's label quality waits for it anyway; a run sharing
    # results loads none): the sections start now.
    sections = sections_start() if params.consensus == "dawid_skene" or not results_wanted else None
    if params.consensus == "dawid_skene":  # label quality scores Dawid–Skene's consensus
        dawid_skene = _dawid_skene(answered)
        quality = run_label_quality(
            answered, items, counts, classes, dawid_skene.result, params, probabilities
        )
    else:  # it scores the majority: beside Dawid–Skene, which the results show as well
        scoring = Beside(
            lambda: run_label_quality(answered, items, counts, classes, None, params, probabilities),
            name="label quality",
            reads_database=False,
            on_thread=side_by_side,
        )
        dawid_skene = _dawid_skene(answered)
        quality = scoring.result()
    results = None
    if results_wanted:
        results = item_results(frame, items, counts, classes, dawid_skene.result, params.consensus, quality)
        if on_results is not None and on_results(results):
            # The load owns them and lets them go once its rows are out: at 10M answers the
            # frame (300 MB at 3.3M items) was held through HLP, the run's memory peak.
            results = None
        if sections is None:  # after the results: the load starts sooner without them beside
            sections = sections_start()
    if sections is None:
        return not_enough(counts_info, "Fewer than two items have two or more answers."), results
    side = sections.result()
    hlp = side.pop("hlp")
    report: dict[str, Any] = {
        "kind": "categorical",
        "counts": counts_info,
        **side,
        "consensus": _consensus_summary(counts, classes, dawid_skene, params),
        "timing": {},
        "hlp": hlp,
    }
    report["label_quality"] = label_quality_summary(quality, report["labelers"], gold, probabilities)
    report["timing"]["seconds"] = round(time.perf_counter() - started, 3)
    return report, results


def _sections(frame, answered, items, counts, classes, slices, gold, params) -> dict:
    """The report's sections that read the answers' counts, not the consensus: overall, per
    class, confusion, labeler pairs, labelers (with their HLP figures), slices, versions, HLP.
    HLP last: its temporaries are the run's peak, and by then the others' are gone."""
    values = _values_for_level(classes, params.level)
    headline = report_alpha(counts, params.level, values)
    low, high = report_alpha_interval(counts, params.level, values, n_boot=params.bootstrap, seed=params.seed)
    pairs = class_confusion(counts).to_numpy()
    labelers = _labelers(frame, answered, items, counts, classes)
    sections: dict[str, Any] = {
        "overall": {
            "level": params.level,
            "alpha": finite(headline),
            "alpha_ci": [finite(low), finite(high)],
            # At the nominal level the headline is this alpha: its coincidences once.
            "alpha_nominal": finite(headline if params.level == "nominal" else report_alpha(counts)),
            **_chance_corrected(counts),
            "meaning": alpha_meaning(headline),
        },
        "per_class": _per_class(counts, pairs, classes),
        "confusion": {"classes": list(classes), "counts": pairs.tolist()},
        "pairs": _labeler_pairs(answered, classes),
        "labelers": labelers,
        "slices": _slices(items, counts, slices, params, values),
        "versions": _versions(answered, classes, params, values, finite(headline)),
    }
    hlp = hlp_categorical(answered=answered, gold=gold, slices=slices, params=params)
    sections["hlp"] = hlp_section_categorical(result=hlp, gold=gold, slices=slices, labeler_rows=labelers)
    return sections


@dataclass(frozen=True)
class _DawidSkeneFit:
    """What the run keeps of a Dawid–Skene fit: its consensus frame (``value``, ``confidence``
    per item), iterations and class priors; not the posteriors and labels it also holds."""

    result: pd.DataFrame
    n_iter: int
    priors: pd.Series


def _dawid_skene(answered: pd.DataFrame) -> _DawidSkeneFit:
    # The metrics read the columns they need by name: no copy of three columns per metric.
    fitted = DawidSkene().fit(answered)
    result = fitted.result_
    result.rename(columns={"consensus": "value"}, inplace=True)  # not a copy of a column per item
    return _DawidSkeneFit(result, fitted.n_iter_, fitted.priors_)


def _per_class(counts: np.ndarray, pairs: np.ndarray, classes: list[str]) -> list[dict]:
    # Binary alpha is NaN for a class that pairable answers always or never give; reports have
    # always shown 1.0 there (no disagreement about it).
    per_class = np.nan_to_num(per_class_agreement(counts)["alpha"].to_numpy(), nan=1.0)
    support = counts.sum(axis=0)
    rows = []
    for c, name in enumerate(classes):
        off = pairs[c].copy()
        off[c] = -1
        partner = int(off.argmax()) if len(classes) > 1 and off.max() > 0 else None
        rows.append(
            {
                "class": name,
                "alpha": finite(per_class[c]),
                "support": int(support[c]),
                "most_confused_with": classes[partner] if partner is not None else None,
                "confusions": int(off[partner]) if partner is not None else 0,
            }
        )
    return rows


def _labeler_pairs(answered: pd.DataFrame, classes: list[str]) -> dict:
    kappa, support = cohen_kappa_pairs(answered, classes)
    shared = support.to_numpy().copy()
    np.fill_diagonal(shared, 0)  # the report counts items shared with *another* labeler
    return {
        "labeler_ids": [int(x) for x in kappa.index],
        "kappa": [[finite(v) for v in row] for row in kappa.to_numpy()],
        "support": shared.tolist(),
    }


#: Answers read at a time by :func:`_labelers` (its per-answer temporaries).
LABELER_BLOCK = 1 << 20


def _labelers(frame, answered, items, counts, classes) -> list[dict]:
    """Per labeler: answers, skips, and how often their answer matches each other answer on the item."""
    # Whole arrays counted per labeler code, a block of answers at a time (no table of every
    # answer, copied and grouped). Sums of whole numbers: exact in float64, in any order.
    _, labelers = factorize(pd.unique(answered["labeler"]))
    n, names = len(labelers), labelers.tolist()
    item_index, class_index = pd.Index(items), pd.Index(list(classes))
    per_item = counts.sum(axis=1)
    answers_n = np.zeros(n, dtype=np.int64)
    paired_items = np.zeros(n, dtype=np.int64)
    same_sum = np.zeros(n)
    others_sum = np.zeros(n)
    for lo in range(0, len(answered), LABELER_BLOCK):
        block = answered.iloc[lo : lo + LABELER_BLOCK]
        code = index_of(labelers, block["labeler"])
        rows_item = index_of(item_index, block["item"])
        same = counts[rows_item, index_of(class_index, block["value"])] - 1  # other answers equal
        others = per_item[rows_item] - 1
        paired = others > 0
        answers_n += np.bincount(code, minlength=n)
        paired_items += np.bincount(code[paired], minlength=n)
        same_sum += np.bincount(code[paired], weights=same[paired], minlength=n)
        others_sum += np.bincount(code[paired], weights=others[paired], minlength=n)
    grouped = {
        names[i]: (int(paired_items[i]), same_sum[i] / others_sum[i])
        for i in np.flatnonzero(paired_items > 0).tolist()
    }
    answers = pd.Series(answers_n, index=labelers)
    skips = frame[frame["skipped"]].groupby("labeler").size()
    out = []
    for labeler in sorted(set(answers.index) | set(skips.index)):
        paired_n, agreement = grouped.get(labeler, (0, None))
        out.append(
            {
                "labeler_id": int(labeler),
                "answers": int(answers.get(labeler, 0)),
                "skips": int(skips.get(labeler, 0)),
                "paired_items": paired_n,
                "agreement_with_others": finite(agreement) if agreement is not None else None,
            }
        )
    return out


def _slices(items, counts, slices: pd.DataFrame, params, values) -> dict:
    if slices is None or slices.empty:
        return {}
    aligned = slices.reindex(items)
    out = {}
    for field in aligned.columns:
        rows = []
        # Each item's value as a code: one comparison of whole numbers per value, not of objects.
        codes, uniques = pd.factorize(aligned[field], use_na_sentinel=True)
        for code, value in enumerate(uniques):
            mask = codes == code
            sub = counts[mask]
            measured = int(pairable(sub).sum())
            rows.append(
                {
                    "value": str(value),
                    "items": int(mask.sum()),
                    "items_measured": measured,
                    "alpha": safe(report_alpha, sub, params.level, values)
                    if measured >= MIN_SLICE_ITEMS
                    else None,
                    "percent_agreement": _slice_percent_agreement(sub) if measured >= 1 else None,
                }
            )
        rows.sort(key=lambda r: (r["alpha"] is None, r["alpha"] if r["alpha"] is not None else 0))
        out[str(field)] = rows
    return out


def _chance_corrected(counts: np.ndarray) -> dict:
    """Percent agreement, Fleiss' kappa and Gwet's AC1 from one pass over the counts (their
    shared terms); None for each the data cannot give."""
    try:
        terms = agreement_terms(counts)
    except ValueError:
        return {"percent_agreement": None, "fleiss_kappa": None, "gwet_ac1": None}
    return {
        "percent_agreement": finite(terms[0]),
        "fleiss_kappa": safe(fleiss_from_terms, *terms),
        "gwet_ac1": safe(gwet_from_terms, *terms),
    }


def _slice_percent_agreement(counts: np.ndarray) -> float | None:
    """Mean agreeing-pair share over the pairable items (percent agreement), also for a slice
    with a single pairable item, where ``percent_agreement`` refuses."""
    return finite(np.nanmean(item_pair_agreement(counts)))


def _versions(answered, classes, params, values, headline: float | None) -> list[dict]:
    if "schema_version" not in answered.columns:
        return []
    numbers = answered["schema_version"].to_numpy()
    if (numbers == numbers[0]).all():  # the common case: the run's own alpha, no copy of the answers
        return [{"schema_version": int(numbers[0]), "answers": len(answered), "alpha": headline}]
    out = []
    for number, group in answered[["item", "labeler", "value", "schema_version"]].groupby("schema_version"):
        sub = value_counts(group, classes, min_labelers=1)[1]
        out.append(
            {
                "schema_version": int(number),
                "answers": len(group),
                "alpha": safe(report_alpha, sub, params.level, values),
            }
        )
    return out


def _consensus_summary(counts, classes, dawid_skene: _DawidSkeneFit, params) -> dict:
    winner, _, tie = majority_from_counts(counts)
    ds_values = dawid_skene.result["value"].to_numpy()
    # ``winner`` indexes the counts' columns, the run's classes (Dawid–Skene's ``classes_``
    # holds only the classes answered, and failed here when one had no answer).
    mv_values = winner_classes(winner, classes)
    return {
        "method": params.consensus,
        "majority_ties": int(tie.sum()),
        "dawid_skene_iterations": int(dawid_skene.n_iter),
        "methods_agree": finite(float(np.mean(ds_values == mv_values))) if len(ds_values) else None,
        "class_priors": {str(k): float(v) for k, v in dawid_skene.priors.items()},
    }
