"""The import job: record files streamed from storage, media files decoded in growing batches."""

import csv
import io
import logging
import threading
import time
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, connections

from core.errors import Invalid
from core.jobs.models import Job, JobStatus
from core.jobs.services import ProgressFn
from labeling.imports.archive import archive_verify, media_entries, open_archive, sidecar
from labeling.imports.media import sanitize_filename
from labeling.imports.records import UnparseableFile
from labeling.models import DataType
from labeling.selectors.projects import job_project
from labeling.services.items.media_batch import MediaBatch, note_rejected
from labeling.services.items.records import (
    SIDECAR_KEYS,
    ImportRefused,
    RecordFile,
    items_import_records,
)
from labeling.services.items.start import import_files_remove

logger = logging.getLogger(__name__)


class _Throttled:
    """Calls ``progress`` with a percentage at most twice a second."""

    def __init__(self, progress: ProgressFn, low: int = 0, high: int = 95):
        self.progress, self.low, self.high = progress, low, high
        self.last = 0.0

    def __call__(self, done: float, total: float, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last > 0.5:
            self.last = now
            share = done / total if total else 1
            self.progress(int(self.low + (self.high - self.low) * min(1.0, share)))


class _CountingReader(io.RawIOBase):
    def __init__(self, raw, on_read: Callable[[int], None]):
        self.raw, self.on_read, self.done = raw, on_read, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.done += n
        self.on_read(self.done)
        return n


def _progress_from_another_connection(job_id: int) -> ProgressFn:
    """Progress of a one-transaction import, written where pollers can see it at once.

    The import's own connection is inside its transaction (and often inside a ``COPY``), so
    each update runs in a short-lived thread with a connection of its own. PostgreSQL only:
    SQLite allows one writer at a time, and there the job ends with its progress at 100.
    """
    if connection.vendor != "postgresql":
        return lambda percent: None

    def update(percent: int) -> None:
        def run() -> None:
            try:
                Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(progress=percent)
            except DatabaseError:
                logger.warning("job %s: progress not recorded", job_id, exc_info=True)
            finally:
                connections.close_all()  # this thread's connection only

        thread = threading.Thread(target=run, name=f"job-{job_id}-progress", daemon=True)
        thread.start()
        thread.join(timeout=5)

    return update


def _run_records(job: Job, progress: ProgressFn) -> dict:
    project = job_project(job=job)
    entries = job.params["files"]
    total = sum(e.get("size") or 0 for e in entries) or 1
    throttled = _Throttled(_progress_from_another_connection(job.id))
    offsets: dict[int, int] = {}

    def wrap_for(file: RecordFile):
        offset = offsets.get(id(file), 0)

        def wrap(stream):
            counting = _CountingReader(stream, lambda done: throttled(offset + done, total))
            return io.BufferedReader(counting, buffer_size=1 << 20)

        return wrap

    handles = [default_storage.open(e["path"], "rb") for e in entries]
    try:
        files, before = [], 0
        for entry, handle in zip(entries, handles, strict=True):
            file = RecordFile(entry["filename"], entry["kind"], handle, entry.get("size") or 0)
            offsets[id(file)] = before
            before += file.size
            files.append(file)
        try:
            return items_import_records(
                project=project,
                files=files,
                metadata_columns=frozenset(job.params.get("metadata_columns") or ()),
                progress=wrap_for,
            )
        except Invalid as exc:
            listed = "; ".join((exc.fields.get("rows") or exc.fields.get("file") or [])[:50])
            raise ImportRefused(f"{exc.message} {listed}".strip()) from exc
    finally:
        for handle in handles:
            handle.close()


def _sidecar_rows(content: bytes | None) -> dict[str, dict]:
    """A metadata CSV keyed by file name (column file, filename or file_name) → {name: {col: value}}."""
    if not content:
        return {}
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig", errors="replace")))
    key = next((k for k in (reader.fieldnames or []) if k in SIDECAR_KEYS), None)
    if key is None:
        return {}
    return {
        (row.get(key) or "").rsplit("/", 1)[-1]: {k: v for k, v in row.items() if k and k != key and v}
        for row in reader
    }


def _run_media(job: Job, progress: ProgressFn) -> dict:
    project = job_project(job=job)
    entries = job.params["files"]
    result = {
        "created": 0,
        "skipped_existing": 0,
        "skipped_existing_ids": [],
        "rejected": [],
        "rejected_count": 0,
        "files": len(entries),
    }
    shared_metadata: dict[str, dict] = {}
    for entry in entries:
        if entry.get("kind") == "sidecar":
            with default_storage.open(entry["path"], "rb") as handle:
                shared_metadata.update(_sidecar_rows(handle.read()))
    media = [e for e in entries if e.get("kind") != "sidecar"]
    _verify_archives(media)
    batch = MediaBatch(project, result)
    try:
        _store_media(media, batch, shared_metadata, result, _Throttled(progress))
    except Exception as exc:
        removed = batch.undo()
        logger.exception("job %s: media import failed; %s items it had stored removed", job.id, removed)
        if isinstance(exc, SoftTimeLimitExceeded):
            raise
        message = f"The import failed ({exc}); nothing was imported. Send the files again."
        raise ImportRefused(message) from exc
    return result


def _is_zip(entry: dict, handle) -> bool:
    return entry.get("kind") == "zip" or handle.read(4) == b"PK\x03\x04"


def _verify_archives(media: list[dict]) -> None:
    """Every archive read through once before anything is stored (see ``archive_verify``)."""
    for entry in media:
        with default_storage.open(entry["path"], "rb") as handle:
            if not _is_zip(entry, handle):
                continue
            handle.seek(0)
            try:
                archive = open_archive(handle)
            except UnparseableFile:
                continue  # listed as rejected when the files are stored
            try:
                archive_verify(archive)
            except UnparseableFile as exc:
                raise ImportRefused(
                    f"{sanitize_filename(entry['filename'])}: {exc}; nothing was imported. "
                    "Fix or re-create the archive and send it again."
                ) from exc


def _store_media(media: list[dict], batch: "MediaBatch", shared_metadata, result, throttled) -> None:
    for index, entry in enumerate(media):
        with default_storage.open(entry["path"], "rb") as handle:
            if _is_zip(entry, handle):
                handle.seek(0)
                try:
                    archive = open_archive(handle)
                except UnparseableFile as exc:
                    note_rejected(result, entry["filename"], str(exc))
                    continue
                metadata = {**shared_metadata, **_sidecar_rows(sidecar(archive))}
                names = archive.namelist()
                for done, (name, content) in enumerate(media_entries(archive), start=1):
                    batch.add(name, content, dict(metadata.get(name.rsplit("/", 1)[-1], {})))
                    throttled(index + done / max(1, len(names)), len(media))
            else:
                handle.seek(0)
                batch.add(entry["filename"], handle.read(), dict(shared_metadata.get(entry["filename"], {})))
        throttled(index + 1, len(media), force=True)
    batch.flush()


def items_import_run(job: Job, progress: ProgressFn) -> dict:
    """The import job: record files (all or nothing) or media files and zips (each file its own
    unit). The per-job folder of uploads is removed when the job ends, whatever happened."""
    try:
        if job_project(job=job).data_type == DataType.RECORD:
            return _run_records(job, progress)
        return _run_media(job, progress)
    finally:
        import_files_remove(job.params.get("folder") or "", job.params["files"])
