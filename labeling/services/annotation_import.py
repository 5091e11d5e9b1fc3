"""Bringing existing labels in: rows of (external_id, labeler, value), or a Label Studio export.

* **Formats.** CSV with the columns ``external_id, labeler, value``; JSONL (or a JSON list) of
  ``{"external_id", "labeler", "value"}``; a Label Studio JSON export, whose tasks become items
  (``external_id`` = the task id, ``data`` = the task data) together with their annotations.
* **One transaction per file.** Bad rows (no labeler, a value of the wrong shape) and unknown
  classes make the whole file fail with a 400 listing each of them; nothing is written. Class
  names match exactly, or ignoring case when that is unambiguous (reported in
  ``classes_mapped``).
* **Reported, never dropped.** Unknown external ids are listed (with their lines) and
  skipped; cancelled or empty Label Studio annotations and unsupported result types are
  counted in ``ignored``.
* **People.** Unknown labelers become inactive accounts with unusable passwords (they can
  never log in) and are added to the project as labelers.
* **Idempotent.** Each answer is an Assignment (status submitted) plus an Annotation
  (``source="import"``, the project's current schema version); an item that already has an
  assignment for that labeler is skipped, so a re-import changes nothing. Imported answers
  hold overlap slots; k grows for items that already have more answers than k.
* **Where it runs.** Files up to ``CONCORD_IMPORT_INLINE_MAX_BYTES`` in the request; larger
  ones as a job (202).
"""

import codecs
import contextlib
import csv
import io
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest

from labeling.answers import answer_validate
from labeling.errors import Invalid
from labeling.imports.labelstudio import (
    NotAnAnswer,
    answer_from_results,
    is_label_studio_export,
    labeler_name,
)
from labeling.imports.records import MAX_ID_CHARS, UnparseableFile, load_json_list
from labeling.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    Item,
    Job,
    JobKind,
    LabelKind,
    Project,
    ProjectMembership,
    Role,
)
from labeling.services.items import ImportRefused, import_files_remove
from labeling.services.jobs import ProgressFn, job_create, job_dispatch

User = get_user_model()
MAX_REPORTED = 200
CHUNK = 5_000
_USERNAME = re.compile(r"[^\w.@+-]")
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
    labelers_created: list[str] = field(default_factory=list)
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
            "labelers_created": self.labelers_created[:MAX_REPORTED],
            "labelers_created_count": len(self.labelers_created),
            "unknown_external_ids": self.unknown_external_ids,
            "unknown_external_id_count": self.unknown_external_id_count,
            "unknown_classes": self.unknown_classes,
            "classes_mapped": self.classes_mapped,
            "ignored": self.ignored,
            "errors": self.errors,
        }


# --- reading ---------------------------------------------------------------------------------


def _cell_value(text: str, label_kind: str):
    """A CSV cell → an answer: JSON for lists and boxes (``a|b`` also works for several classes)."""
    if label_kind not in STRUCTURED_KINDS:
        return text
    if text[:1] in "[{":
        with contextlib.suppress(json.JSONDecodeError):
            return json.loads(text)
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
            yield LabelRow(
                line,
                (raw.get("external_id") or "").strip(),
                (raw.get("labeler") or "").strip(),
                _cell_value(raw.get("value") or "", label_kind),
            )
    except (UnicodeDecodeError, csv.Error) as exc:
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
            obj = json.loads(raw)
        except (UnicodeDecodeError, ValueError) as exc:
            raise UnparseableFile(f"line {line} is not valid JSON ({getattr(exc, 'msg', exc)})") from exc
        yield _row_from_object(line, obj)


def _rows_from_label_studio(project: Project, tasks: list, report: _Report) -> Iterator[LabelRow]:
    """New tasks become items first (external_id = task id, data = task data); then the answers."""
    existing = set()
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
        external_id = str(task["id"])
        if len(external_id) > MAX_ID_CHARS:
            raise UnparseableFile(f"task {index}: the id is longer than {MAX_ID_CHARS} characters")
        data = task.get("data")
        if not isinstance(data, dict):
            raise UnparseableFile(f"task {index}: 'data' must be an object")
        if external_id not in existing:
            existing.add(external_id)
            meta = task.get("meta")
            new_items.append(
                Item(
                    project=project,
                    kind=project.data_type,
                    external_id=external_id,
                    data=data,
                    metadata=meta if isinstance(meta, dict) else {},
                    target=project.overlap,
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
        if is_label_studio_export(items):
            return _rows_from_label_studio(project, items, report)
        return (_row_from_object(line, obj) for line, obj in enumerate(items, start=1))
    if stripped.startswith(b"{"):
        return _rows_from_jsonl(source)
    return _rows_from_csv(source, project.label_kind)


# --- writing ---------------------------------------------------------------------------------


class _Classes:
    """Exact class names, or a unique case-insensitive match (reported as mapped)."""

    def __init__(self, names: Iterable[str], report: _Report):
        self.names = set(names)
        folded: dict[str, list[str]] = {}
        for name in self.names:
            folded.setdefault(name.casefold(), []).append(name)
        self.folded = {k: v[0] for k, v in folded.items() if len(v) == 1}
        self.report = report

    def _one(self, name):
        if not isinstance(name, str) or name in self.names:
            return name
        mapped = self.folded.get(name.casefold())
        if mapped is None:
            return name
        self.report.classes_mapped[name] = mapped
        return mapped

    def map(self, label_kind: str, value):
        if label_kind in (LabelKind.CLASSES, LabelKind.RATING):
            return self._one(value)
        if label_kind == LabelKind.MULTI_CLASSES and isinstance(value, list):
            return [self._one(v) for v in value]
        if label_kind == LabelKind.BOXES and isinstance(value, list):
            return [{**b, "class": self._one(b.get("class"))} if isinstance(b, dict) else b for b in value]
        return value

    def unknown(self, label_kind: str, value) -> list[str]:
        if label_kind in (LabelKind.CLASSES, LabelKind.RATING):
            names = [value]
        elif label_kind == LabelKind.MULTI_CLASSES and isinstance(value, list):
            names = value
        elif label_kind == LabelKind.BOXES and isinstance(value, list):
            names = [b.get("class") for b in value if isinstance(b, dict)]
        else:
            return []
        return [str(n) for n in names if isinstance(n, str | int) and str(n) not in self.names]


class _Labelers:
    """Usernames → users, creating inactive accounts and labeler memberships in bulk."""

    def __init__(self, project: Project, report: _Report):
        self.project, self.report = project, report
        self.users: dict[str, int] = {}

    @staticmethod
    def username(name: str) -> str:
        return _USERNAME.sub("_", name)[:150] or "unknown"

    def resolve(self, names: set[str]) -> None:
        wanted = {self.username(n) for n in names} - set(self.users)
        if not wanted:
            return
        found = dict(User.objects.filter(username__in=wanted).values_list("username", "id"))
        missing = sorted(wanted - set(found))
        if missing:
            unusable = make_password(None)  # no password can ever match: they never log in
            User.objects.bulk_create(
                [User(username=u, is_active=False, password=unusable) for u in missing], batch_size=1000
            )
            found.update(User.objects.filter(username__in=missing).values_list("username", "id"))
            self.report.labelers_created += missing
        members = set(
            ProjectMembership.objects.filter(project=self.project, user_id__in=found.values()).values_list(
                "user_id", flat=True
            )
        )
        ProjectMembership.objects.bulk_create(
            [
                ProjectMembership(project=self.project, user_id=user_id, role=Role.LABELER)
                for user_id in found.values()
                if user_id not in members
            ],
            batch_size=1000,
        )
        self.users.update(found)

    def id_of(self, name: str) -> int:
        return self.users[self.username(name)]


def _chunks(rows: Iterator[LabelRow]) -> Iterator[list[LabelRow]]:
    chunk: list[LabelRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _write_chunk(project, version, chunk, classes, labelers, report, seen, per_item) -> None:
    ids = {r.external_id for r in chunk if r.external_id}
    items = dict(Item.objects.filter(project=project, external_id__in=ids).values_list("external_id", "id"))
    valid: list[tuple[LabelRow, int, object]] = []
    for row in chunk:
        report.rows += 1
        if not row.external_id:
            report.error(row.line, "missing external_id")
            continue
        if not row.labeler:
            report.error(row.line, "missing labeler")
            continue
        item_id = items.get(row.external_id)
        if item_id is None:
            report.unknown_external_id_count += 1
            if len(report.unknown_external_ids) < MAX_REPORTED:
                report.unknown_external_ids.append({"line": row.line, "external_id": row.external_id})
            continue
        value = classes.map(project.label_kind, row.value)
        unknown = classes.unknown(project.label_kind, value)
        if unknown:
            for name in unknown:
                report.unknown_classes[name[:100]] = report.unknown_classes.get(name[:100], 0) + 1
            continue
        try:
            value = answer_validate(label_kind=project.label_kind, class_names=classes.names, value=value)
        except Invalid as exc:
            report.error(row.line, exc.message)
            continue
        valid.append((row, item_id, value))
    if report.error_count or report.unknown_classes:
        return  # the file fails: keep reading to report everything, write nothing more
    labelers.resolve({row.labeler for row, _, _ in valid})
    pairs = [(item_id, labelers.id_of(row.labeler)) for row, item_id, _ in valid]
    existing = set(
        Assignment.objects.filter(
            item_id__in={p[0] for p in pairs}, labeler_id__in={p[1] for p in pairs}
        ).values_list("item_id", "labeler_id")
    )
    fresh = []
    for (_, _, value), pair in zip(valid, pairs, strict=True):
        if pair in existing:
            report.skipped_existing += 1
        elif pair in seen:
            report.duplicates_in_file += 1
        else:
            seen.add(pair)
            fresh.append((pair, value))
    assignments = Assignment.objects.bulk_create(
        [
            Assignment(
                project=project, item_id=item_id, labeler_id=labeler_id, status=AssignmentStatus.SUBMITTED
            )
            for (item_id, labeler_id), _ in fresh
        ],
        batch_size=2000,
    )
    Annotation.objects.bulk_create(
        [
            Annotation(
                assignment=assignment,
                item_id=assignment.item_id,
                labeler_id=assignment.labeler_id,
                schema_version=version,
                value=value,
                source="import",
            )
            for assignment, (_, value) in zip(assignments, fresh, strict=True)
        ],
        batch_size=2000,
    )
    report.created += len(fresh)
    for (item_id, _), _ in fresh:
        per_item[item_id] = per_item.get(item_id, 0) + 1


def _hold_slots(project: Project, per_item: dict[int, int]) -> None:
    """Imported answers hold overlap slots (gold items have none); k grows where needed."""
    by_count: dict[int, list[int]] = {}
    for item_id, n in per_item.items():
        by_count.setdefault(n, []).append(item_id)
    for n, item_ids in by_count.items():  # one UPDATE per distinct count, not per item
        for start in range(0, len(item_ids), 10_000):
            Item.objects.filter(pk__in=item_ids[start : start + 10_000], is_gold=False).update(
                target=Greatest(F("target"), F("slots_taken") + n), slots_taken=F("slots_taken") + n
            )


@transaction.atomic
def annotations_import(*, project: Project, source, filename: str = "") -> dict:
    """Import labels made elsewhere into the project's current schema version (one transaction)."""
    report = _Report()
    version = project.schema_version
    classes = _Classes(version.classes.values_list("name", flat=True), report)
    labelers = _Labelers(project, report)
    seen: set[tuple[int, int]] = set()
    per_item: dict[int, int] = {}
    try:
        for chunk in _chunks(_read(project, source, report)):
            _write_chunk(project, version, chunk, classes, labelers, report, seen, per_item)
    except UnparseableFile as exc:
        transaction.set_rollback(True)
        raise Invalid(
            f"{filename or 'The file'} cannot be read: {exc}. Nothing was imported.",
            fields={"file": [str(exc)]},
        ) from exc
    if report.error_count or report.unknown_classes:
        transaction.set_rollback(True)
        reasons = [f"line {e['line']}: {e['reason']}" for e in report.errors]
        if report.error_count > len(report.errors):
            reasons.append(f"… and {report.error_count - len(report.errors)} more bad rows")
        reasons += [f"unknown class {name!r} ({n} answers)" for name, n in report.unknown_classes.items()]
        raise Invalid(
            "Some answers cannot be imported; nothing was written. "
            "Add the classes to the schema or fix the rows, then send the file again.",
            fields={"rows": reasons},
            extra={"report": report.as_dict()},
        )
    _hold_slots(project, per_item)
    return report.as_dict()


def annotations_import_start(*, project: Project, upload, requested_by: AbstractBaseUser) -> Job:
    """A large file of labels: store it in a per-job folder and import it in a job."""
    from labeling.tasks import annotations_import_task

    folder = f"imports/{uuid.uuid4().hex}"
    path = default_storage.save(f"{folder}/{uuid.uuid4().hex}", upload)
    stored = [{"path": path, "filename": upload.name[:200], "size": upload.size}]
    try:
        with transaction.atomic():
            job = job_create(
                kind=JobKind.IMPORT_ANNOTATIONS,
                project=project,
                created_by=requested_by,
                params={"files": stored, "folder": folder},
            )
            job_dispatch(job=job, task=annotations_import_task)
    except Exception:
        import_files_remove(folder, stored)
        raise
    return job


def annotations_import_run(job: Job, progress: ProgressFn) -> dict:
    entry = job.params["files"][0]
    try:
        with default_storage.open(entry["path"], "rb") as handle:
            try:
                return annotations_import(project=job.project, source=handle, filename=entry["filename"])
            except Invalid as exc:
                listed = "; ".join((exc.fields.get("rows") or exc.fields.get("file") or [])[:50])
                raise ImportRefused(f"{exc.message} {listed}".strip()) from exc
    finally:
        import_files_remove(job.params.get("folder") or "", job.params["files"])


def annotations_runs_in_request(*, size: int) -> bool:
    return size <= settings.CONCORD_IMPORT_INLINE_MAX_BYTES


__all__ = [
    "annotations_import",
    "annotations_import_run",
    "annotations_import_start",
    "annotations_runs_in_request",
]
