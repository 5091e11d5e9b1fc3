"""Bringing existing labels in: rows of (external_id, labeler, value), or a Label Studio export.

One transaction per file. Unknown external ids and classes are reported (never dropped
silently); unknown labelers become inactive accounts added as labelers; an answer already
imported for the same labeler and item is skipped, so a re-import changes nothing.
"""

import contextlib
import csv
import io
import json
import re

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest

from labeling.answers import answer_validate
from labeling.errors import Invalid
from labeling.imports.records import UnparseableFile
from labeling.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    DataType,
    Item,
    LabelKind,
    LabelSchemaVersion,
    Project,
    ProjectMembership,
    Role,
)

User = get_user_model()
MAX_REPORTED = 200
_USERNAME = re.compile(r"[^\w.@+-]")


def _rows_from_table(content: bytes) -> list[tuple[int, str, str, object]]:
    text = content.decode("utf-8-sig")
    stripped = text.lstrip()
    rows = []
    if stripped.startswith("{"):
        for line, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise UnparseableFile(f"line {line} is not valid JSON ({exc.msg})") from exc
            rows.append(
                (line, str(obj.get("external_id", "")), str(obj.get("labeler", "")), obj.get("value"))
            )
        return rows
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"external_id", "labeler", "value"} <= set(reader.fieldnames):
        raise UnparseableFile("the CSV needs the columns external_id, labeler and value")
    for line, raw in enumerate(reader, start=2):
        value = raw["value"]
        if value and value[:1] in "[{":
            with contextlib.suppress(json.JSONDecodeError):  # not JSON after all: keep the text
                value = json.loads(value)
        rows.append((line, raw["external_id"], raw["labeler"], value))
    return rows


def _ls_value(results: list, label_kind: str, width_height: dict) -> object:
    """Label Studio `result` entries → our answer shape."""
    choices, boxes, texts = [], [], []
    for result in results or []:
        value = result.get("value") or {}
        kind = result.get("type")
        if kind == "choices":
            choices += value.get("choices", [])
        elif kind == "rectanglelabels":
            w_img = result.get("original_width") or width_height.get("width")
            h_img = result.get("original_height") or width_height.get("height")
            if not w_img or not h_img:
                raise ValueError(
                    "a rectangle without original_width/original_height cannot be placed in pixels"
                )
            for label in value.get("rectanglelabels", []):
                boxes.append(
                    {
                        "x": round(value["x"] * w_img / 100, 2),
                        "y": round(value["y"] * h_img / 100, 2),
                        "w": round(value["width"] * w_img / 100, 2),
                        "h": round(value["height"] * h_img / 100, 2),
                        "class": label,
                    }
                )
        elif kind == "textarea":
            texts += value.get("text", [])
    if label_kind == LabelKind.BOXES:
        return boxes
    if label_kind == LabelKind.TRANSCRIPTION:
        return " ".join(texts) if texts else None
    if label_kind == LabelKind.MULTI_CLASSES:
        return choices
    return choices[0] if choices else None


def _rows_from_label_studio(
    project: Project, tasks: list, report: dict
) -> list[tuple[int, str, str, object]]:
    """Tasks become items (external_id = the task id, data = the task data) if they are new."""
    rows = []
    existing = set(Item.objects.filter(project=project).values_list("external_id", flat=True).iterator())
    new_items = []
    for index, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or "id" not in task:
            raise UnparseableFile(f"task {index} has no id: this is not a Label Studio JSON export")
        external_id = str(task["id"])
        if external_id not in existing:
            existing.add(external_id)
            new_items.append(
                Item(
                    project=project,
                    kind=project.data_type,
                    external_id=external_id,
                    data=task.get("data") or {},
                    metadata=task.get("meta") or {},
                    target=project.overlap,
                )
            )
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):
                continue
            who = annotation.get("completed_by")
            if isinstance(who, dict):
                who = who.get("email") or who.get("id")
            try:
                value = _ls_value(annotation.get("result"), project.label_kind, task.get("data") or {})
            except ValueError as exc:
                report["errors"].append({"line": index, "reason": str(exc)})
                continue
            rows.append((index, external_id, f"ls-{who}", value))
    Item.objects.bulk_create(new_items, batch_size=2000)
    report["items_created"] = len(new_items)
    return rows


def _labeler(project: Project, name: str, cache: dict, report: dict):
    if name in cache:
        return cache[name]
    username = _USERNAME.sub("_", name)[:150] or "unknown"
    user = User.objects.filter(username=username).first()
    if user is None:
        # An account for the imported labeler: inactive, no password, never able to log in.
        user = User(username=username, is_active=False)
        user.set_unusable_password()
        user.save()
        report["labelers_created"].append(username)
    ProjectMembership.objects.get_or_create(project=project, user=user, defaults={"role": Role.LABELER})
    cache[name] = user
    return user


@transaction.atomic
def annotations_import(*, project: Project, content: bytes, filename: str = "") -> dict:
    """Import labels made elsewhere into the project's current schema version."""
    report = {
        "created": 0,
        "skipped_existing": 0,
        "items_created": 0,
        "labelers_created": [],
        "unknown_external_ids": [],
        "unknown_classes": {},
        "errors": [],
    }
    try:
        head = content.lstrip()[:1]
        if head == b"[":
            tasks = json.loads(content)
            if not isinstance(tasks, list):
                raise UnparseableFile("a JSON export must be a list of tasks")
            if project.data_type == DataType.RECORD and any(
                isinstance(t, dict) and "annotations" not in t for t in tasks[:1]
            ):
                raise UnparseableFile(
                    "this JSON list is not a Label Studio export (tasks need 'annotations')"
                )
            rows = _rows_from_label_studio(project, tasks, report)
        else:
            rows = _rows_from_table(content)
    except (UnicodeDecodeError, json.JSONDecodeError, UnparseableFile) as exc:
        raise Invalid(f"The file cannot be read: {exc}", fields={"file": [str(exc)]}) from exc

    version = LabelSchemaVersion.objects.filter(project=project, published_at__isnull=False).order_by(
        "-number"
    )
    version = version.prefetch_related("classes").first()
    class_names = {c.name for c in version.classes.all()}
    items = {}
    ids = {external_id for _, external_id, _, _ in rows}
    for item_id, external_id in Item.objects.filter(project=project, external_id__in=ids).values_list(
        "id", "external_id"
    ):
        items[external_id] = item_id
    labelers: dict = {}
    per_item: dict[int, int] = {}
    for line, external_id, labeler_name, value in rows:
        item_id = items.get(external_id)
        if item_id is None:
            if len(report["unknown_external_ids"]) < MAX_REPORTED:
                report["unknown_external_ids"].append({"line": line, "external_id": external_id})
            continue
        if not labeler_name:
            report["errors"].append({"line": line, "reason": "missing labeler"})
            continue
        try:
            value = answer_validate(label_kind=project.label_kind, class_names=class_names, value=value)
        except Invalid as exc:
            if "Unknown class" in exc.message:
                key = str(value)[:100]
                report["unknown_classes"][key] = report["unknown_classes"].get(key, 0) + 1
            else:
                report["errors"].append({"line": line, "reason": exc.message})
            continue
        labeler = _labeler(project, labeler_name, labelers, report)
        assignment, created = Assignment.objects.get_or_create(
            item_id=item_id,
            labeler=labeler,
            defaults={"project": project, "status": AssignmentStatus.SUBMITTED},
        )
        if not created:
            report["skipped_existing"] += 1
            continue
        Annotation.objects.create(
            assignment=assignment,
            item_id=item_id,
            labeler=labeler,
            schema_version=version,
            value=value,
            source="import",
        )
        per_item[item_id] = per_item.get(item_id, 0) + 1
        report["created"] += 1
    if report["errors"] or report["unknown_classes"]:
        transaction.set_rollback(True)
        reasons = [f"line {e['line']}: {e['reason']}" for e in report["errors"][:MAX_REPORTED]]
        reasons += [f"unknown class {name!r} ({n} answers)" for name, n in report["unknown_classes"].items()]
        raise Invalid(
            "Some answers cannot be imported; nothing was written. "
            "Add the classes or fix the rows, then send the file again.",
            fields={"rows": reasons},
            extra={"report": report},
        )
    # Imported answers hold slots; k grows for items that already have more answers than k.
    by_count: dict[int, list[int]] = {}
    for item_id, n in per_item.items():
        by_count.setdefault(n, []).append(item_id)
    for n, item_ids in by_count.items():  # one UPDATE per distinct count, not per item
        Item.objects.filter(pk__in=item_ids).update(
            target=Greatest(F("target"), F("slots_taken") + n), slots_taken=F("slots_taken") + n
        )
    return report
