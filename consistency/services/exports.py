"""Exports and dataset snapshots."""

import hashlib
import json
from collections.abc import Iterator
from typing import TypedDict

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, transaction

from consistency.exports import formats
from consistency.exports.params import ExportParamError, parse_export_params
from consistency.exports.rows import export_context, export_rows
from consistency.exports.source import ExportSource, export_source_get
from consistency.exports.stream import export_check, export_filename
from consistency.models import DatasetSnapshot, JobKind
from core.audit.services import audit
from core.errors import Conflict
from core.jobs.models import Job
from core.jobs.services import ProgressFn, job_create, job_dispatch
from labeling.models import LabelSchemaVersion, Project
from labeling.storage import folder_remove, storage_check

REPEATABLE = ("slice", "exclude", "include")


class SnapshotFile(TypedDict):
    """One file of a snapshot (``DatasetSnapshot.files``, per split or "all")."""

    path: str
    filename: str
    sha256: str
    rows: int
    bytes: int


def snapshot_query_clean(query: dict) -> dict:
    """A snapshot's JSON parameters as a query string would give them: text values, lists only
    for the repeatable ones (``{"split": ["a"]}`` or ``{"slice": 5}`` said what is wrong, not 500)."""
    clean: dict = {}
    for key, value in query.items():
        if key in REPEATABLE and isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise ExportParamError(key, f"{key} must be text or a list of texts.")
            clean[key] = value
        elif isinstance(value, str) or (key not in REPEATABLE and isinstance(value, int | float)):
            clean[key] = value if isinstance(value, str) else str(value).lower()
        elif value is not None:
            kind = "text or a list of texts" if key in REPEATABLE else "text or a number"
            raise ExportParamError(key, f"{key} must be {kind}.")
    return clean


class _QueryDict(dict):
    """The stored snapshot params, readable by parse_export_params like a request's query."""

    def getlist(self, key):
        value = self.get(key)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]


def lineage(*, project: Project, version: LabelSchemaVersion) -> list[dict]:
    """The chain of schema versions behind ``version``, oldest first, with each change's note."""
    versions = {
        v.id: v for v in LabelSchemaVersion.objects.filter(project=project).select_related("created_by")
    }
    chain = []
    current = versions.get(version.id)
    while current is not None:
        chain.append(
            {
                "schema_version": current.number,
                "note": current.note,
                "mapping": current.mapping,
                "transcript_rules": current.transcript_rules,
                "created_by": current.created_by.username if current.created_by else None,
                "published_at": current.published_at.isoformat() if current.published_at else None,
            }
        )
        current = versions.get(current.parent_id) if current.parent_id is not None else None
    return list(reversed(chain))


def snapshot_request(*, project: Project, requested_by: AbstractBaseUser, query: dict) -> Job:
    """Validate now (400 before anything is queued), freeze in a worker."""

    query = snapshot_query_clean(query)
    params = parse_export_params(_QueryDict(query))
    export_check(project=project, params=params)
    if export_context(project=project, params=params).run is None:  # 409 now: a snapshot names its run
        raise Conflict("A snapshot records its agreement run: start one first.")
    storage_check()  # bucket unreachable: 503 now, no job that would fail later
    with transaction.atomic():
        job = job_create(kind=JobKind.SNAPSHOT, project=project, created_by=requested_by, params=query)
        audit(project=project, actor=requested_by, action="snapshot", target=f"job {job.id}", after=query)
        job_dispatch(job=job)
    return job


def _write_file(path: str, chunks: Iterator[bytes]) -> tuple[str, int, str]:
    """Write chunks to storage through a spooled temp file; return (sha256, bytes, stored name)."""
    import tempfile

    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile() as spool:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            spool.write(chunk)
        spool.seek(0)
        name = default_storage.save(path, File(spool))
    return digest.hexdigest(), size, name


def _files_of_earlier_attempt_remove(*, job_id: int) -> None:
    """A worker killed mid-snapshot leaves some split files and no snapshot row: remove them,
    so the redelivered attempt writes each file under its own name and nothing half-written stays."""
    folder_remove(f"snapshots/job{job_id}")


class _Counter:
    def __init__(self, rows):
        self.rows = rows
        self.count = 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


def snapshot_create(job: Job, progress: ProgressFn) -> dict:
    """The snapshot job: one file per split (or one file), hashed, then the snapshot row."""
    done = DatasetSnapshot.objects.filter(job=job).first()
    if done is not None:  # the worker died after saving it: report it, don't freeze twice
        return {
            "snapshot_id": done.id,
            "content_hash": done.content_hash,
            "row_count": done.row_count,
            "manifest": done.manifest,
        }
    _files_of_earlier_attempt_remove(job_id=job.id)
    project = job.project
    assert project is not None  # snapshot_request creates the job with its project
    params = parse_export_params(_QueryDict(job.params))
    # The rows are a pure read: from the replica when configured and fresh (exports.source); the
    # snapshot row below is written on the primary.
    source = export_source_get()
    ctx = export_context(project=project, params=params, using=source.alias)
    if ctx.run is None and source.from_replica:
        # A replica read with tolerated lag may not have replayed the project's first run yet:
        # the primary has what the snapshot must freeze, if anything.
        source = ExportSource(alias=DEFAULT_DB_ALIAS, skipped="behind")
        ctx = export_context(project=project, params=params, using=source.alias)
    run = ctx.run
    if run is None:
        raise Conflict("A snapshot records its agreement run: start one first.")
    classes = list(ctx.classes)
    splits = list(params.split.names) if params.split else [None]
    files: dict[str, SnapshotFile] = {}
    total = 0
    for index, split in enumerate(splits):
        rows = export_rows(project=project, ctx=ctx, params=params)
        if split is not None:
            rows = (row for row in rows if row["split"] == split)
        counted = _Counter(rows)
        filename = export_filename(project=project, ctx=ctx, params=params, split=split)
        sha, size, name = _write_file(
            f"snapshots/job{job.id}/{filename}",
            formats.write(params.format, counted, classes=classes, extra=params.extra_columns),
        )
        files[split or "all"] = {
            "path": name,
            "filename": filename,
            "sha256": sha,
            "rows": counted.count,
            "bytes": size,
        }
        total += counted.count
        progress(int(90 * (index + 1) / len(splits)))
    assert run.finished_at is not None  # the export reads succeeded runs only
    content_hash = hashlib.sha256("".join(files[k]["sha256"] for k in files).encode()).hexdigest()
    manifest = {
        "project": {"id": project.id, "name": project.name, "label_kind": project.label_kind},
        "agreement_run": {
            "id": run.id,
            "number": run.number,
            "finished_at": run.finished_at.isoformat(),
            "alpha": run.headline_alpha,
        },
        "schema_version": ctx.version.number,
        "run_schema_version": run.schema_version.number,
        "lineage": lineage(project=project, version=ctx.version),
        "params": params.as_dict(),
        "files": files,
        "row_count": total,
        "content_hash": content_hash,
        "created_by": job.created_by.username if job.created_by else None,
    }
    with transaction.atomic():
        snapshot = DatasetSnapshot.objects.create(
            project=project,
            # By id: ``run`` and ``ctx.version`` may have been read on the replica, and Django
            # refuses to relate rows of two databases.
            run_id=run.id,
            schema_version_id=ctx.version.id,
            job=job,
            params=params.as_dict(),
            files=files,
            content_hash=content_hash,
            row_count=total,
            manifest=manifest,
            created_by=job.created_by,
        )
    return {
        "snapshot_id": snapshot.id,
        "content_hash": content_hash,
        "row_count": total,
        "manifest": json.loads(json.dumps(manifest)),
        "source": source.as_dict(),
    }
