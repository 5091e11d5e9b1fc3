"""Export rows streamed from the database: one per item of an agreement run.

Rows are read in item order with a server-side cursor (``iterator``), so memory stays flat;
answers (``include=answers``) are fetched per chunk of items, never per item.
"""

import json
from collections.abc import Iterator

from consistency.exports.params import BORDERLINE_NAMES, ExportParams
from consistency.exports.splits import SplitAssigner
from consistency.models import AgreementRun, ItemResult, RunStatus
from consistency.selectors.annotations import _map_value, version_mappings
from labeling.errors import Conflict
from labeling.models import Annotation, Project

CHUNK = 5_000
ROW_FIELDS = (
    "item_id",
    "item__external_id",
    "item__data",
    "item__media",
    "item__metadata",
    "item__is_gold",
    "consensus",
    "method",
    "confidence",
    "agreement",
    "n_answers",
    "is_tie",
    "by_method",
    "item__quality",
    "label_quality",
)


def export_run_for(*, project: Project, params: ExportParams) -> AgreementRun:
    """The run an export reads: the given one, or the latest finished (on a schema version)."""
    runs = AgreementRun.objects.filter(project=project, status=RunStatus.SUCCEEDED).select_related(
        "schema_version"
    )
    if params.run is not None:
        runs = runs.filter(pk=params.run)
    if params.schema_version is not None:
        runs = runs.filter(schema_version__number=params.schema_version)
    run = runs.order_by("-finished_at", "-id").first()
    if run is None:
        raise Conflict(
            "No finished agreement run matches: start one (POST /api/projects/{id}/agreement-runs/) first."
        )
    return run


def _is_borderline(value) -> bool:
    return isinstance(value, str) and value.strip().lower() in BORDERLINE_NAMES


def _keep(row: dict, params: ExportParams) -> bool:
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
    if "unresolved" in params.exclude and row["consensus"] is None:
        return False
    if "ties" in params.exclude and row["is_tie"]:
        return False
    if "borderline" in params.exclude and _is_borderline(row["consensus"]):
        return False
    metadata = row["metadata"] or {}
    return all(str(metadata.get(name)) == value for name, value in params.slices)


def _answers(item_ids: list[int], project: Project, run: AgreementRun, mappings: dict) -> dict[int, list]:
    answers: dict[int, list] = {}
    rows = (
        Annotation.objects.filter(item_id__in=item_ids, is_current=True, skip_reason="")
        .order_by("item_id", "labeler_id")
        .values_list("item_id", "labeler_id", "value", "schema_version_id")
    )
    for item_id, labeler_id, value, version_id in rows:
        answers.setdefault(item_id, []).append(
            {"labeler": labeler_id, "value": _map_value(value, mappings.get(version_id, {}))}
        )
    return answers


def export_rows(*, project: Project, run: AgreementRun, params: ExportParams) -> Iterator[dict]:
    """Yield export rows in item order. Splits are assigned before filtering, over every item
    of the run, so a filter never shifts another item's split."""
    method = params.consensus or run.params.get("consensus") or project.consensus_method
    assigner = SplitAssigner(params.split, params.seed) if params.split else None
    mappings = (
        version_mappings(project=project, to_version=run.schema_version) if params.include_answers else {}
    )
    schema_number = run.schema_version.number
    results = ItemResult.objects.filter(run=run).order_by("item_id").values_list(*ROW_FIELDS)
    chunk: list[tuple] = []

    def flush(rows: list[tuple]) -> Iterator[dict]:
        answers = _answers([r[0] for r in rows], project, run, mappings) if params.include_answers else {}
        for r in rows:
            row = _row(r, method, schema_number, with_quality=params.format == "coco")
            row["label_quality"] = r[-1]
            if assigner is not None:
                stratum = json.dumps(row["consensus"], sort_keys=True, ensure_ascii=False)
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

    for result in results.iterator(chunk_size=CHUNK):
        chunk.append(result)
        if len(chunk) >= CHUNK:
            yield from flush(chunk)
            chunk = []
    if chunk:
        yield from flush(chunk)


def _row(r: tuple, method: str, schema_number: int, *, with_quality: bool = False) -> dict:
    (
        item_id,
        external_id,
        data,
        media,
        metadata,
        is_gold,
        consensus,
        run_method,
        confidence,
        agreement,
        n_answers,
        is_tie,
        by_method,
        quality,
        _label_quality,
    ) = r
    if run_method != "gold" and method != run_method and method in (by_method or {}):
        chosen = by_method[method]
        consensus, confidence, run_method = chosen.get("value"), chosen.get("confidence"), method
    return {
        "item_id": item_id,
        "external_id": external_id,
        "data": data,
        "media": media or None,
        "consensus": consensus,
        "method": run_method,
        "confidence": confidence,
        "agreement": agreement,
        "n_answers": n_answers,
        "is_gold": is_gold,
        "is_tie": is_tie,
        "schema_version": schema_number,
        "metadata": metadata,
        **({"quality": quality} if with_quality else {}),
    }
