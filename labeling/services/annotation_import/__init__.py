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
* **People.** A labeler name that is the username of a project member with a labeling role
  (labeler, reviewer, manager) gives that member the answer (``labelers_members``). Any other
  name becomes an import-only labeler of this project (``labelers_import_only``): stored under
  ``import:<project id>:<name>``, which no account can be called, inactive, never able to sign
  in. Nobody outside the project is made a member, no username is taken, and the response is
  the same whether or not an account with that name exists.
* **Idempotent.** Each answer is an Assignment (status submitted) plus an Annotation
  (``source="import"``, the project's current schema version); an item that already has an
  assignment for that labeler is skipped, so a re-import changes nothing. Imported answers
  hold overlap slots; k grows for items that already have more answers than k.
* **Where it runs.** Files up to ``CONCORD_IMPORT_INLINE_MAX_BYTES`` in the request; larger
  ones as a job (202).
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.db import transaction

from core.errors import Invalid
from core.jobs.models import Job
from core.jobs.services import ProgressFn, job_create, job_dispatch
from labeling.imports.records import UnparseableFile
from labeling.models import JobKind, Project
from labeling.selectors.projects import job_project
from labeling.services.annotation_import.reading import _read, _Report
from labeling.services.annotation_import.writing import (
    _chunks,
    _Classes,
    _hold_slots,
    _Labelers,
    _write_chunk,
)
from labeling.services.items import ImportRefused, import_files_remove
from labeling.storage import storage_guard


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


def annotations_import_start(*, project: Project, upload, requested_by: User) -> Job:
    """A large file of labels: store it in a per-job folder and import it in a job."""

    folder = f"imports/{uuid.uuid4().hex}"
    with storage_guard():
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
            job_dispatch(job=job)
    except Exception:
        import_files_remove(folder, stored)
        raise
    return job


def annotations_import_run(job: Job, progress: ProgressFn) -> dict:
    entry = job.params["files"][0]
    try:
        with default_storage.open(entry["path"], "rb") as handle:
            try:
                return annotations_import(
                    project=job_project(job=job), source=handle, filename=entry["filename"]
                )
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
