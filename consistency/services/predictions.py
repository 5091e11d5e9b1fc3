"""Model predictions (shadow mode) and the course's gap-to-HLP table."""

import csv
import io
import json
import math

import pandas as pd
from django.contrib.auth.models import User
from django.db import transaction

from consistency.metrics.boxes.hlp import box_scores
from consistency.metrics.categorical.label_quality import PROBABILITY_TOLERANCE
from consistency.metrics.gap import gap_to_hlp
from consistency.metrics.transcripts.hlp import transcript_scores
from consistency.models import AgreementRun, Prediction, ReviewStatus
from consistency.report import report_from_json
from consistency.selectors.annotations import item_slices
from consistency.selectors.labels import label_context, project_labels
from consistency.selectors.schema import class_names
from core.errors import Invalid
from core.text import json_loads_checked, unsafe_text_reason
from labeling.answers import answer_validate
from labeling.models import Item, Project
from labeling.selectors.schema_versions import schema_version_current

PROBABILITY_PREFIX = "prob:"
PROBABILITY_KINDS = {"classes", "rating"}


def _rows(content: bytes) -> list[tuple[int, str, object, float | None, object]]:
    """(line, external_id, value, score, probabilities) per row. JSONL rows may carry
    ``probabilities`` ({class: p}); CSV rows carry them in ``prob:<class>`` columns."""
    text = content.decode("utf-8-sig")
    if reason := unsafe_text_reason(text):
        raise ValueError(f"the file contains {reason}")
    if text.lstrip().startswith("{"):
        rows = []
        for line, raw in enumerate(text.splitlines(), start=1):
            if raw.strip():
                obj = json_loads_checked(raw)
                if not isinstance(obj, dict):
                    raise ValueError(f"line {line} is not a JSON object")
                rows.append(
                    (
                        line,
                        str(obj.get("external_id", "")),
                        obj.get("value"),
                        obj.get("score"),
                        obj.get("probabilities"),
                    )
                )
        return rows
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "external_id" not in reader.fieldnames:
        raise ValueError(
            "the CSV needs the columns external_id and value (and optionally score, prob:<class>)"
        )
    prob_columns = [c for c in reader.fieldnames if c.startswith(PROBABILITY_PREFIX)]
    if "value" not in reader.fieldnames and not prob_columns:
        raise ValueError("the CSV needs a value column or prob:<class> columns")
    rows = []
    for line, r in enumerate(reader, start=2):
        probabilities = None
        if prob_columns:
            probabilities = {
                c[len(PROBABILITY_PREFIX) :]: r[c] for c in prob_columns if r.get(c) not in (None, "")
            }
        score = float(r["score"]) if r.get("score") not in (None, "") else None
        rows.append((line, r["external_id"], r.get("value") or None, score, probabilities))
    return rows


def _check_probabilities(
    probabilities: object, names: set[str], kind: str
) -> tuple[dict[str, float] | None, str]:
    """(probabilities as floats, "") or (None, what is wrong with them)."""
    if probabilities is None:
        return None, ""
    if kind not in PROBABILITY_KINDS:
        return None, "probabilities are for classes and rating projects"
    if not isinstance(probabilities, dict) or not probabilities:
        return None, "probabilities must be an object {class: probability}"
    unknown = sorted(set(probabilities) - names)
    if unknown:
        return None, f"unknown classes in probabilities: {', '.join(map(str, unknown[:5]))}"
    try:
        values = {name: float(p) for name, p in probabilities.items()}
    except (TypeError, ValueError):
        return None, "probabilities must be numbers"
    if any(not math.isfinite(p) or p < 0 or p > 1 for p in values.values()):
        return None, "each probability must be between 0 and 1"
    total = sum(values.values())
    if abs(total - 1) > PROBABILITY_TOLERANCE:
        return None, f"probabilities sum to {total:.4g}, not 1"
    return values, ""


@transaction.atomic
def predictions_upload(*, project: Project, content: bytes, model_version: str, uploaded_by: User) -> dict:
    """All or nothing; re-uploading a model version replaces its predictions. Rows with bad
    values or probabilities (unknown classes, not summing to 1) are listed in a 400."""
    try:
        rows = _rows(content)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, csv.Error) as exc:
        raise Invalid(f"The file cannot be read: {exc}", fields={"file": [str(exc)]}) from exc
    version = schema_version_current(project=project, with_classes=True)
    names = set(class_names(version))
    ids = dict(
        Item.objects.filter(project=project, external_id__in={r[1] for r in rows}).values_list(
            "external_id", "id"
        )
    )
    errors, unknown, objects = [], [], []
    for line, external_id, value, score, raw_probabilities in rows:
        probabilities, problem = _check_probabilities(raw_probabilities, names, project.label_kind)
        if problem:
            errors.append(f"line {line}: {problem}")
            continue
        if external_id not in ids:
            unknown.append(external_id)
            continue
        if value is None and probabilities:
            value = max(probabilities, key=probabilities.__getitem__)  # the model's top class
        try:
            value = answer_validate(label_kind=project.label_kind, class_names=names, value=value)
        except Invalid as exc:
            errors.append(f"line {line}: {exc.message}")
            continue
        objects.append(
            Prediction(
                project=project,
                item_id=ids[external_id],
                model_version=model_version,
                value=value,
                schema_version=version,
                score=score,
                probabilities=probabilities,
                uploaded_by=uploaded_by,
            )
        )
    if errors:
        raise Invalid(
            f"{len(errors)} prediction rows are invalid; nothing was stored.", fields={"rows": errors[:200]}
        )
    Prediction.objects.filter(project=project, model_version=model_version).delete()
    Prediction.objects.bulk_create(objects, batch_size=5000)
    return {"model_version": model_version, "stored": len(objects), "unknown_external_ids": unknown[:200]}


def gap_table(*, project: Project, run: AgreementRun, model_version: str, field: str) -> dict:
    """slice | model accuracy | HLP | gap | % of data | potential, against each item's current
    label (resolution, gold, else consensus; items set aside as lacking information are left out)
    and the run's HLP per slice, with the items left out and why. Predictions and labels are
    both read under the current schema version."""
    ctx = label_context(project=project)
    labels = project_labels(project=project, ctx=ctx)
    outcomes = {
        item_id: (current.label, current.is_tie)
        for item_id, current in labels.items()
        if current.status != ReviewStatus.LACKS_INFORMATION
    }
    reference = pd.Series(
        {item: label for item, (label, _) in outcomes.items() if label is not None}, dtype=object
    )
    rows = Prediction.objects.filter(project=project, model_version=model_version).values_list(
        "item_id", "value", "schema_version_id"
    )
    predictions = pd.Series(
        {item_id: ctx.map(value, version_id) for item_id, value, version_id in rows}, dtype=object
    )
    slices = item_slices(project=project)
    report = report_from_json(run.report)
    hlp_rows = report.hlp_per_slice(field)
    hlp = pd.Series({str(r["value"]): r["rate"] for r in hlp_rows}, dtype=float)
    slice_of_item = slices[field] if field in slices.columns else pd.Series(dtype=object)
    overall_hlp = report.hlp_project.get("hlp")
    if field not in slices.columns:
        slice_of_item = pd.Series("all", index=reference.index)
        hlp = pd.Series({"all": overall_hlp}, dtype=float)
    scores = None
    if project.label_kind in SCORED_KINDS:
        scores = _scores(project.label_kind, predictions, reference, run.schema_version.transcript_rules)
        disagreeing = scores.index[scores["errors"] > 0].tolist()
    else:
        predictions, reference = predictions.dropna().astype(str), reference.dropna().astype(str)
        disagreeing = [
            item
            for item, value in predictions.items()
            if item in reference.index and reference[item] != value
        ]
    table = _gap_rows(predictions, reference, hlp, slice_of_item, scores)
    return {
        "rows": table,
        "scored_items": int(predictions.index.isin(reference.index).sum()),
        "left_out": _left_out(predictions.index, reference.index, outcomes, run),
        "disagreeing_items": disagreeing[:200],
        "disagreeing_count": len(disagreeing),
        "overall_hlp": overall_hlp,
        "measure": report.hlp.get("measure") or "accuracy",
    }


def _left_out(predicted: pd.Index, referenced: pd.Index, outcomes: dict, run: AgreementRun) -> list[dict]:
    """Items the table does not score, counted by reason (only reasons that occur)."""
    unscored = [item for item in predicted if item not in referenced]
    tie = sum(1 for item in unscored if item in outcomes and outcomes[item][1])
    unmeasured = sum(1 for item in unscored if item not in outcomes)
    no_prediction = len(referenced.difference(predicted))
    reasons = [
        (tie, "predicted, but people tied: no consensus to score against"),
        (
            len(unscored) - tie - unmeasured,
            "predicted, but no consensus (every answer skipped or waiting for a new label)",
        ),
        (unmeasured, "predicted, but without answers or a decision yet"),
        (no_prediction, "with a label but no prediction from this model"),
    ]
    return [{"items": n, "reason": reason} for n, reason in reasons if n]


# Kinds whose answers are scored (word accuracy, box F1) rather than right or wrong, the way
# their agreement runs score people.
SCORED_KINDS = {"transcription", "boxes"}


def _scores(kind, predictions: pd.Series, reference: pd.Series, rules) -> pd.DataFrame:
    """errors and total per item with both a prediction and a reference, indexed by item."""
    hyp = predictions.dropna()
    ref = reference.dropna()
    hyp = hyp[hyp.index.isin(ref.index)]
    if hyp.empty:
        raise ValueError("no item has both a prediction and a reference answer")
    scored = transcript_scores(hyp, ref, rules or []) if kind == "transcription" else box_scores(hyp, ref)
    return scored.set_index("item")


def _gap_rows(predictions, reference, hlp: pd.Series, slice_of_item: pd.Series, scores) -> list:
    """Rows slice, items, model_accuracy, hlp, gap, share, potential, by potential (best first).

    Items without a slice value fall in "(none)". The gap is HLP − model accuracy, negative where
    the model does better than people (it is shown as such, not as 0).
    """
    table = gap_to_hlp(
        predictions, reference, slice_of_item.dropna().astype(str).rename("slice"), hlp=hlp, scores=scores
    )
    table = table.sort_values("potential", ascending=False, kind="stable", na_position="last")
    table = table.rename(columns={"n_items": "items"})
    return table[["slice", "items", "model_accuracy", "hlp", "gap", "share", "potential"]].to_dict("records")
