"""Export rows streamed from the database: one per item that has a label or an answer.

Items are read in id order with a server-side cursor (``iterator``), so memory stays flat; each
chunk's current labels (``selectors.labels``) and answers (``include=answers``) are fetched per
chunk of items, never per item.
"""

import json
from collections.abc import Iterator

from django.db import DEFAULT_DB_ALIAS

from consistency.exports.params import BORDERLINE_NAMES, ExportParams
from consistency.exports.splits import SplitAssigner
from consistency.models import AgreementRun, ReviewStatus, RunStatus
from consistency.selectors.annotations import _map_value
from consistency.selectors.labels import LabelContext, item_labels, label_context
from core.errors import Conflict
from labeling.models import Annotation, Item, Project

CHUNK = 5_000
ITEM_FIELDS = (
    "id",
    "external_id",
    "data",
    "media",
    "metadata",
    "is_gold",
    "gold_value",
    "gold_version_id",
    "quality",
)
DECIDED = ("resolved", "gold")


def export_context(*, project: Project, params: ExportParams, using: str = DEFAULT_DB_ALIAS) -> LabelContext:
    """Labels as the export reads them: decisions live, consensus from the chosen run (the given
    one, the latest on a schema version, or the latest finished) plus the answers since.
    ``using``: the database the export reads (``exports.source``), kept in ``LabelContext.db``."""
    run = None
    if params.run is not None or params.schema_version is not None:
        runs = AgreementRun.objects.using(using).filter(project_id=project.id, status=RunStatus.SUCCEEDED)
        if params.run is not None:
            runs = runs.filter(pk=params.run)
        if params.schema_version is not None:
            runs = runs.filter(schema_version__number=params.schema_version)
        run = runs.select_related("schema_version").order_by("-finished_at", "-id").first()
        if run is None:
            raise Conflict("No finished agreement run matches the run / schema_version asked for.")
    return label_context(project=project, method=params.consensus, run=run, using=using)


def _is_borderline(value) -> bool:
    return isinstance(value, str) and value.strip().lower() in BORDERLINE_NAMES


def _keep(row: dict, params: ExportParams) -> bool:
    if row["status"] == ReviewStatus.LACKS_INFORMATION and not params.include_lacks_information:
        return False
    # The figures of the answers filter what the answers decide; a reviewer's or gold label stays.
    if row["label_source"] not in DECIDED:
        if params.min_agreement is not None and (
            row["agreement"] is None or row["agreement"] < params.min_agreement
        ):
            return False
        if params.min_confidence is not None and (
            row["confidence"] is None or row["confidence"] < params.min_confidence
        ):
            return False
        if params.min_answers is not None and row["n_answers"] < params.min_answers:
            return False
        if params.min_quality is not None and (
            row["label_quality"] is None or row["label_quality"] < params.min_quality
        ):
            return False
    if "unresolved" in params.exclude and row["label"] is None:
        return False
    if "ties" in params.exclude and row["is_tie"]:
        return False
    if "borderline" in params.exclude and _is_borderline(row["label"]):
        return False
    metadata = row["metadata"] or {}
    return all(str(metadata.get(name)) == value for name, value in params.slices)


def _answers(item_ids: list[int], ctx: LabelContext) -> dict[int, list]:
    answers: dict[int, list] = {}
    rows = (
        Annotation.objects.using(ctx.db)
        .filter(item_id__in=item_ids, is_current=True, skip_reason="")
        .order_by("item_id", "labeler_id")
        .values_list("item_id", "labeler_id", "value", "schema_version_id")
    )
    for item_id, labeler_id, value, version_id in rows:
        answers.setdefault(item_id, []).append(
            {"labeler": labeler_id, "value": _map_value(value, ctx.mappings.get(version_id, {}))}
        )
    return answers


def stratum_of(label) -> str:
    """Splits are stratified by the label a pipeline trains on."""
    return json.dumps(label, sort_keys=True, ensure_ascii=False)


def export_rows(*, project: Project, ctx: LabelContext, params: ExportParams) -> Iterator[dict]:
    """Yield export rows in item order. Splits are assigned before filtering, over every listed
    item, so a filter never shifts another item's split."""
    assigner = SplitAssigner(params.split, params.seed) if params.split else None
    items = Item.objects.using(ctx.db).filter(project_id=project.id).order_by("id").values_list(*ITEM_FIELDS)
    chunk: list[tuple] = []

    def flush(rows: list[tuple]) -> Iterator[dict]:
        labels = item_labels(ctx, [(r[0], r[5], r[6], r[7]) for r in rows])
        answers = _answers([r[0] for r in rows], ctx) if params.include_answers else {}
        for r in rows:
            current = labels[r[0]]
            if not current.listed:
                continue
            row = _row(r, current, ctx, with_quality=params.format == "coco")
            if assigner is not None:
                stratum = stratum_of(row["label"])
                if params.stratify_by:
                    stratum += "\x1f" + str((row["metadata"] or {}).get(params.stratify_by))
                row["split"] = assigner.assign(stratum)
            else:
                row["split"] = None
            if not _keep(row, params):
                continue
            if params.include_answers:
                row["answers"] = answers.get(row["item_id"], [])
            if not params.include_quality:
                del row["label_quality"]
            yield row

    for item in items.iterator(chunk_size=CHUNK):
        chunk.append(item)
        if len(chunk) >= CHUNK:
            yield from flush(chunk)
            chunk = []
    if chunk:
        yield from flush(chunk)


def _row(r: tuple, current, ctx: LabelContext, *, with_quality: bool = False) -> dict:
    item_id, external_id, data, media, metadata, is_gold, _gold, _gold_version, quality = r
    return {
        "item_id": item_id,
        "external_id": external_id,
        "data": data,
        "media": media or None,
        "label": current.label,
        "label_source": current.label_source,
        "resolved_by": current.resolved_by,
        "resolved_at": current.resolved_at,
        "consensus": current.consensus,
        "method": current.method,
        "confidence": current.confidence,
        "agreement": current.agreement,
        "n_answers": current.n_answers,
        "is_gold": is_gold,
        "is_tie": current.is_tie,
        "schema_version": ctx.version.number,
        "status": current.status,
        "metadata": metadata,
        "label_quality": current.label_quality,
        **({"quality": quality} if with_quality else {}),
    }
