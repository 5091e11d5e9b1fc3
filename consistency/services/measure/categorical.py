"""Classes and ratings: alpha at the chosen level, kappas, AC1, confusion, consensus, HLP."""

import time
from collections.abc import Iterator

import numpy as np
import pandas as pd

from consistency.metrics.chance import cohen_kappa_pairs, fleiss_kappa, gwet_ac1, percent_agreement
from consistency.metrics.coincidence import (
    alpha,
    bootstrap_alpha,
    confusion_pairs,
    pairable_items,
    per_class_alpha,
    value_counts,
)
from consistency.metrics.consensus import DawidSkene
from consistency.metrics.human_level import human_level
from consistency.metrics.voting import item_pair_agreement, majority_from_counts, top_two
from consistency.services.measure.common import (
    _base_counts,
    _finite,
    _not_enough,
    _safe,
    _table_rows,
    alpha_meaning,
)

MIN_SLICE_ITEMS = 2


def _values_for_level(classes: list[str], level: str) -> list[float] | None:
    if level in ("nominal", "ordinal"):
        return None
    try:
        return [float(c) for c in classes]
    except ValueError as exc:
        raise ValueError(f"{level} alpha needs numeric class names, got {classes}") from exc


def measure_categorical(*, frame: pd.DataFrame, classes: list[str], slices: pd.DataFrame, gold: dict, params):
    started = time.perf_counter()
    answered, counts_info = _base_counts(frame)
    if answered.empty:
        return _not_enough(counts_info, "No answers yet."), iter(())
    items, counts = value_counts(answered, classes)
    pairable = pairable_items(counts)
    counts_info |= {"items_measured": int(pairable.sum()), "items_excluded": int((~pairable).sum())}
    dawid_skene = DawidSkene().fit(answered[["item", "labeler", "value"]])
    dawid_skene.result_ = dawid_skene.result_.rename(columns={"consensus": "value"})
    results = _item_results(frame, items, counts, classes, gold, dawid_skene.result_, params.consensus)
    if pairable.sum() < 2:
        return _not_enough(counts_info, "Fewer than two items have two or more answers."), results

    values = _values_for_level(classes, params.level)
    headline = alpha(counts, params.level, values)
    low, high = bootstrap_alpha(counts, params.level, values, n_boot=params.bootstrap, seed=params.seed)
    overall = {
        "level": params.level,
        "alpha": _finite(headline),
        "alpha_ci": [_finite(low), _finite(high)],
        "alpha_nominal": _finite(alpha(counts)),
        "percent_agreement": _safe(percent_agreement, counts),
        "fleiss_kappa": _safe(fleiss_kappa, counts),
        "gwet_ac1": _safe(gwet_ac1, counts),
        "meaning": alpha_meaning(headline),
    }
    pairs = confusion_pairs(counts)
    report = {
        "kind": "categorical",
        "counts": counts_info,
        "overall": overall,
        "per_class": _per_class(counts, pairs, classes),
        "confusion": {"classes": list(classes), "counts": pairs.tolist()},
        "pairs": _labeler_pairs(answered, classes),
        "labelers": _labelers(frame, answered, items, counts, classes),
        "slices": _slices(items, counts, slices, params, values),
        "versions": _versions(answered, classes, params, values),
        "consensus": _consensus_summary(counts, dawid_skene, params),
        "timing": {},
    }
    report["hlp"] = _hlp(answered, gold, slices, params, report["labelers"])
    report["timing"]["seconds"] = round(time.perf_counter() - started, 3)
    return report, results


def _per_class(counts: np.ndarray, pairs: np.ndarray, classes: list[str]) -> list[dict]:
    per_class = per_class_alpha(counts)
    support = counts.sum(axis=0)
    rows = []
    for c, name in enumerate(classes):
        off = pairs[c].copy()
        off[c] = -1
        partner = int(off.argmax()) if len(classes) > 1 and off.max() > 0 else None
        rows.append(
            {
                "class": name,
                "alpha": _finite(per_class[c]),
                "support": int(support[c]),
                "most_confused_with": classes[partner] if partner is not None else None,
                "confusions": int(off[partner]) if partner is not None else 0,
            }
        )
    return rows


def _labeler_pairs(answered: pd.DataFrame, classes: list[str]) -> dict:
    kappa, support = cohen_kappa_pairs(answered, classes)
    return {
        "labeler_ids": [int(x) for x in kappa.index],
        "kappa": [[_finite(v) for v in row] for row in kappa.to_numpy()],
        "support": support.to_numpy().tolist(),
    }


def _labelers(frame, answered, items, counts, classes) -> list[dict]:
    """Per labeler: answers, skips, and how often their answer matches each other answer on the item."""
    index = pd.Index(items)
    class_index = pd.Index(list(classes))
    rows_item = index.get_indexer(answered["item"])
    codes = class_index.get_indexer(answered["value"])
    same = counts[rows_item, codes] - 1  # other answers equal to this one
    others = counts[rows_item].sum(axis=1) - 1
    table = pd.DataFrame({"labeler": answered["labeler"].to_numpy(), "same": same, "others": others})
    table = table[table["others"] > 0]
    grouped = table.groupby("labeler").agg(
        same=("same", "sum"), others=("others", "sum"), items=("same", "size")
    )
    answers = answered.groupby("labeler").size()
    skips = frame[frame["skipped"]].groupby("labeler").size()
    out = []
    for labeler in sorted(set(answers.index) | set(skips.index)):
        row = grouped.loc[labeler] if labeler in grouped.index else None
        out.append(
            {
                "labeler_id": int(labeler),
                "answers": int(answers.get(labeler, 0)),
                "skips": int(skips.get(labeler, 0)),
                "paired_items": int(row["items"]) if row is not None else 0,
                "agreement_with_others": _finite(row["same"] / row["others"]) if row is not None else None,
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
        column = aligned[field]
        for value in column.dropna().unique():
            mask = (column == value).to_numpy()
            sub = counts[mask]
            measured = int(pairable_items(sub).sum())
            rows.append(
                {
                    "value": str(value),
                    "items": int(mask.sum()),
                    "items_measured": measured,
                    "alpha": _safe(alpha, sub, params.level, values) if measured >= MIN_SLICE_ITEMS else None,
                    "percent_agreement": _safe(percent_agreement, sub) if measured >= 1 else None,
                }
            )
        rows.sort(key=lambda r: (r["alpha"] is None, r["alpha"] if r["alpha"] is not None else 0))
        out[str(field)] = rows
    return out


def _versions(answered, classes, params, values) -> list[dict]:
    if "schema_version" not in answered.columns:
        return []
    out = []
    for number, group in answered.groupby("schema_version"):
        _, sub = value_counts(group, classes)
        out.append(
            {
                "schema_version": int(number),
                "answers": len(group),
                "alpha": _safe(alpha, sub, params.level, values),
            }
        )
    return out


def _consensus_summary(counts, dawid_skene, params) -> dict:
    winner, _, tie = majority_from_counts(counts)
    ds_values = dawid_skene.result_["value"].to_numpy()
    mv_values = np.where(
        winner >= 0, np.asarray(dawid_skene.classes_, dtype=object)[np.maximum(winner, 0)], None
    )
    return {
        "method": params.consensus,
        "majority_ties": int(tie.sum()),
        "dawid_skene_iterations": int(dawid_skene.n_iter_),
        "methods_agree": _finite(float(np.mean(ds_values == mv_values))) if len(ds_values) else None,
        "class_priors": {str(k): float(v) for k, v in dawid_skene.priors_.items()},
    }


def _hlp(answered, gold: dict, slices, params, labeler_rows: list[dict]) -> dict:
    gold_series = pd.Series({k: v for k, v in gold.items() if v is not None}, dtype=object)
    result = human_level(
        answered[["item", "labeler", "value"]],
        gold=gold_series if len(gold_series) else None,
        slices=slices,
        n_boot=min(params.bootstrap, 1000),
        seed=params.seed,
    )
    by_labeler = {row["labeler"]: row for row in _table_rows(result["labelers"], "labeler")}
    rates = [r["loo_rate"] for r in by_labeler.values() if r.get("loo_rate") is not None]
    typical = float(np.median(rates)) if rates else None
    for row in labeler_rows:
        hlp = by_labeler.get(row["labeler_id"], {})
        row.update({k: v for k, v in hlp.items() if k != "labeler"})
        # Flag labelers far below the rest: 0.15 under the median leave-one-out agreement.
        row["flagged"] = bool(
            typical is not None and hlp.get("loo_rate") is not None and hlp["loo_rate"] < typical - 0.15
        )
    project = {k: _finite(v) if isinstance(v, float) else v for k, v in result["project"].items()}
    return {
        "project": project,
        "per_class": _table_rows(result["per_class"], "class"),
        "per_slice": {field: _table_rows(table, "value") for field, table in result["per_slice"].items()},
    }


def _item_results(frame, items, counts, classes, gold, ds_result, method) -> Iterator[dict]:
    winner, share, tie = majority_from_counts(counts)
    ds_values = ds_result["value"].reindex(items).to_numpy()
    ds_confidence = ds_result["confidence"].reindex(items).to_numpy()
    agreement = item_pair_agreement(counts)
    first, second = top_two(counts)
    skipped = frame[frame["skipped"]].groupby("item").size()
    names = list(classes)
    totals = counts.sum(axis=1)
    for i, item in enumerate(items.tolist()):
        majority = names[winner[i]] if winner[i] >= 0 else None
        by_method = {
            "majority": {"value": majority, "confidence": _finite(share[i])},
            "dawid_skene": {"value": ds_values[i], "confidence": _finite(ds_confidence[i])},
        }
        chosen = by_method[method]
        is_gold = item in gold and gold[item] is not None
        pair = _finite(agreement[i])
        yield {
            "item_id": item,
            "n_answers": int(totals[i]),
            "n_skipped": int(skipped.get(item, 0)),
            "consensus": gold[item] if is_gold else chosen["value"],
            "method": "gold" if is_gold else method,
            "confidence": 1.0 if is_gold else chosen["confidence"],
            "agreement": pair,
            "disagreement": 0.0 if pair is None else round(1.0 - pair, 6),
            "is_tie": bool(tie[i]),
            "first_class": names[first[i]] if first[i] >= 0 else "",
            "second_class": names[second[i]] if second[i] >= 0 else "",
            "by_method": by_method,
        }
