"""Reading label files: CSV, JSONL or JSON rows, and Label Studio exports (whose tasks become items)."""

import codecs
import contextlib
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from core.text import UnsafeInput, json_loads_checked, unsafe_text_reason
from labeling.imports.labelstudio import (
    NotAnAnswer,
    answer_from_results,
    is_label_studio_export,
    labeler_name,
)
from labeling.imports.records import ParseReport, UnparseableFile, load_json_list, make_row
from labeling.models import (
    Item,
    LabelKind,
    Project,
)

MAX_REPORTED = 200
STRUCTURED_KINDS = (LabelKind.MULTI_CLASSES, LabelKind.BOXES)


@dataclass
class LabelRow:
    line: int
    external_id: str
    labeler: str
    value: object


@dataclass
class _Report:
    rows: int = 0
    created: int = 0
    skipped_existing: int = 0
    duplicates_in_file: int = 0
    items_created: int = 0
    labelers_members: set[str] = field(default_factory=set)
    labelers_import_only: set[str] = field(default_factory=set)
    unknown_external_ids: list[dict] = field(default_factory=list)
    unknown_external_id_count: int = 0
    unknown_classes: dict[str, int] = field(default_factory=dict)
    classes_mapped: dict[str, str] = field(default_factory=dict)
    ignored: dict[str, int] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0

    def error(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED:
            self.errors.append({"line": line, "reason": reason})

    def ignore(self, what: str, n: int = 1) -> None:
        self.ignored[what] = self.ignored.get(what, 0) + n

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "created": self.created,
            "skipped_existing": self.skipped_existing,
            "duplicates_in_file": self.duplicates_in_file,
            "items_created": self.items_created,
            # Names that are members with a labeling role got their answers; every other name
            # is an import-only labeler of this project (never an account: see _Labelers).
            "labelers_members": sorted(self.labelers_members)[:MAX_REPORTED],
            "labelers_import_only": sorted(self.labelers_import_only)[:MAX_REPORTED],
            "labelers_import_only_count": len(self.labelers_import_only),
            "unknown_external_ids": self.unknown_external_ids,
            "unknown_external_id_count": self.unknown_external_id_count,
            "unknown_classes": self.unknown_classes,
            "classes_mapped": self.classes_mapped,
            "ignored": self.ignored,
            "errors": self.errors,
        }


def _cell_value(text: str, label_kind: str):
    """A CSV cell → an answer: JSON for lists and boxes (``a|b`` also works for several classes)."""
    if label_kind not in STRUCTURED_KINDS:
        return text
    if text[:1] in "[{":
        with contextlib.suppress(json.JSONDecodeError):
            return json_loads_checked(text)
    if label_kind == LabelKind.MULTI_CLASSES:
        return [part.strip() for part in text.split("|") if part.strip()]
    return text


def _rows_from_csv(stream, label_kind: str) -> Iterator[LabelRow]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        reader = csv.DictReader(text)
        if not reader.fieldnames or not {"external_id", "labeler", "value"} <= set(reader.fieldnames):
            raise UnparseableFile("the CSV needs the columns external_id, labeler and value")
        for line, raw in enumerate(reader, start=2):
            for cell in raw.values():
                if isinstance(cell, str) and (reason := unsafe_text_reason(cell)):
                    raise UnparseableFile(f"line {line} contains {reason}")
            yield LabelRow(
                line,
                (raw.get("external_id") or "").strip(),
                (raw.get("labeler") or "").strip(),
                _cell_value(raw.get("value") or "", label_kind),
            )
    except (UnicodeDecodeError, csv.Error, UnsafeInput) as exc:
        raise UnparseableFile(f"not a readable UTF-8 CSV file ({exc})") from exc
    finally:
        text.detach()


def _row_from_object(line: int, obj) -> LabelRow:
    if not isinstance(obj, dict):
        return LabelRow(line, "", "", None)
    external_id = obj.get("external_id")
    return LabelRow(
        line,
        "" if external_id is None else str(external_id).strip(),
        str(obj.get("labeler") or "").strip(),
        obj.get("value"),
    )


def _rows_from_jsonl(stream) -> Iterator[LabelRow]:
    for line, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            obj = json_loads_checked(raw)
        except (UnicodeDecodeError, ValueError) as exc:
            raise UnparseableFile(f"line {line} is not valid JSON ({getattr(exc, 'msg', exc)})") from exc
        yield _row_from_object(line, obj)


def _rows_from_label_studio(project: Project, tasks: list, report: _Report) -> Iterator[LabelRow]:
    """New tasks become items first (external_id = task id, data = task data); then the answers."""
    existing: set[str] = set()
    ids = [str(t.get("id")) for t in tasks if isinstance(t, dict) and t.get("id") is not None]
    for start in range(0, len(ids), 10_000):
        existing.update(
            Item.objects.filter(project=project, external_id__in=ids[start : start + 10_000]).values_list(
                "external_id", flat=True
            )
        )
    new_items = []
    for index, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or task.get("id") is None:
            raise UnparseableFile(f"task {index} has no id: this is not a Label Studio JSON export")
        if not isinstance(task.get("data"), dict):
            raise UnparseableFile(f"task {index}: 'data' must be an object")
        meta = task.get("meta")
        # The same checks as an item import (NUL, huge fields, no fields, the id's length).
        checked = ParseReport()
        row = make_row(
            index,
            {
                "external_id": task["id"],
                "data": task["data"],
                "metadata": meta if isinstance(meta, dict) else {},
            },
            frozenset(),
            checked,
        )
        if row is None:
            raise UnparseableFile(f"task {index}: {checked.errors[0]['reason']}")
        if row.external_id not in existing:
            existing.add(row.external_id)
            new_items.append(
                Item(
                    project=project,
                    kind=project.data_type,
                    external_id=row.external_id,
                    data=row.data,
                    metadata=row.metadata,
                    target=project.initial_target,
                )
            )
    Item.objects.bulk_create(new_items, batch_size=2000)
    report.items_created = len(new_items)
    if new_items and project.data_type != "record":
        report.ignore("items created without media (upload the files separately)", len(new_items))
    for index, task in enumerate(tasks, start=1):
        annotations = task.get("annotations") or []
        if not isinstance(annotations, list):
            raise UnparseableFile(f"task {index}: 'annotations' must be a list")
        for annotation in annotations:
            if not isinstance(annotation, dict):
                raise UnparseableFile(f"task {index}: each annotation must be an object")
            if annotation.get("was_cancelled"):
                report.ignore("cancelled annotations")
                continue
            try:
                value, empty, ignored = answer_from_results(annotation.get("result"), project.label_kind)
            except NotAnAnswer as exc:
                report.rows += 1
                report.error(index, f"task {task['id']}: {exc}")
                continue
            for kind, n in ignored.items():
                report.ignore(f"unsupported result type {kind!r}", n)
            if empty:
                report.ignore("empty annotations")
                continue
            yield LabelRow(index, str(task["id"]), labeler_name(annotation), value)


def _read(project: Project, source, report: _Report) -> Iterator[LabelRow]:
    head = source.read(4096)
    source.seek(0)
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise UnparseableFile("not UTF-8 text") from exc
    if stripped.startswith(b"["):
        items = load_json_list(source)
        try:  # answers go to the database as they are: the checks of an API body
            json_loads_checked(json.dumps(items))
        except UnsafeInput as exc:
            raise UnparseableFile(str(exc)) from exc
        if is_label_studio_export(items):
            return _rows_from_label_studio(project, items, report)
        return (_row_from_object(line, obj) for line, obj in enumerate(items, start=1))
    if stripped.startswith(b"{"):
        return _rows_from_jsonl(source)
    return _rows_from_csv(source, project.label_kind)
