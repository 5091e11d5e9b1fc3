"""Importing items: records (streamed, bulk inserted, all or nothing) and media (a job).

The rules (also in the API docs):

* **Where it runs.** A JSON body or record files of at most ``CONCORD_IMPORT_INLINE_MAX_BYTES``
  (16 MiB by default, about 200,000 short rows) are imported in the request (201 with the
  report). Larger record imports, and every media file or zip, become a background job
  (202 + ``Location: /api/jobs/{id}/``) run by a Celery worker.
* **Refused before anything is written (400).** A file that is not a record file (record
  projects) or not an image, audio file, zip or sidecar CSV (media projects); a CSV without a
  usable header; a broken or unsafe zip (``..``, absolute paths, links, too many entries, too
  large uncompressed); a body over the size limits (413).
* **Records are all or nothing.** All files of one import are one transaction: if any row is
  bad, nothing is written and the answer (or the failed job's error) lists every bad row with
  its file, line and reason. Fix them and send again.
* **Media files are each their own unit.** In a media job every accepted file is kept and
  every rejected one is listed with its name and reason (corrupt, not the project's type,
  over the pixel limit…).
* **Idempotent.** An existing ``external_id`` (records without one use the SHA-256 of their
  content, media the SHA-256 of their bytes) is skipped and counted, so a retry after a
  timeout creates no duplicates; ids repeated inside one import are reported too.
"""

import codecs
import contextlib
import csv
import hashlib
import io
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, connection, connections, transaction

from labeling.errors import Invalid
from labeling.imports.archive import archive_check, media_entries, open_archive, sidecar
from labeling.imports.media import RejectedMedia, process_media, sanitize_filename, sniff
from labeling.imports.records import (
    ParsedRow,
    ParseReport,
    RecordStats,
    UnparseableFile,
    header_check,
    load_json_list,
    parse_csv,
    parse_json_list,
    parse_jsonl,
    parse_parquet,
    record_kind,
)
from labeling.models import DataType, Item, Job, JobKind, JobStatus, Project
from labeling.services.jobs import ProgressFn, job_create, job_dispatch

logger = logging.getLogger(__name__)

__all__ = [
    "RecordFile",
    "RecordStats",
    "import_runs_in_request",
    "items_import_records",
    "items_import_run",
    "items_import_start",
    "record_kind",
]

BATCH = 5_000
MAX_LISTED = 100
MAX_REJECTED = 1000
SIDECAR_KEYS = ("file", "filename", "file_name")


@dataclass
class RecordFile:
    """One record source of an import: a binary stream (csv, jsonl, parquet, json) or rows."""

    name: str
    kind: str
    source: object
    size: int = 0


@dataclass
class _Inserted:
    created: int = 0
    total: int = 0
    skipped_ids: list[str] = field(default_factory=list)


class ImportRefused(Exception):
    """A background record import that wrote nothing; the message lists the bad rows."""


def import_runs_in_request(*, project: Project, size: int) -> bool:
    """Records up to the inline limit run in the request; bigger imports and all media are jobs."""
    return project.data_type == DataType.RECORD and size <= settings.CONCORD_IMPORT_INLINE_MAX_BYTES


# --- records ---------------------------------------------------------------------------------


def _python_rows(file: RecordFile, metadata_columns, report: ParseReport) -> Iterator[ParsedRow]:
    if file.kind == "rows":
        return parse_json_list(file.source, metadata_columns, report)
    if file.kind == "csv":
        return parse_csv(file.source, metadata_columns, report)
    if file.kind == "jsonl":
        return parse_jsonl(file.source, metadata_columns, report)
    if file.kind == "parquet":
        return parse_parquet(file.source, metadata_columns, report)
    return parse_json_list(load_json_list(file.source), metadata_columns, report)


def _insert_rows_orm(project: Project, rows: Iterator[ParsedRow], stats: RecordStats) -> _Inserted:
    """Any database: bulk_create in batches of existing-id-filtered rows."""
    out = _Inserted()
    batch: list[Item] = []

    def flush():
        ids = [item.external_id for item in batch]
        existing = set(
            Item.objects.filter(project=project, external_id__in=ids).values_list("external_id", flat=True)
        )
        fresh = [item for item in batch if item.external_id not in existing]
        Item.objects.bulk_create(fresh, batch_size=1000)
        out.created += len(fresh)
        out.skipped_ids.extend(sorted(existing)[: max(0, MAX_LISTED - len(out.skipped_ids))])

    for row in rows:
        out.total += 1
        batch.append(
            Item(
                project=project,
                kind=DataType.RECORD,
                external_id=row.external_id,
                data=row.data,
                metadata=row.metadata,
                quality=stats.add(row.data),
                target=project.overlap,
            )
        )
        if len(batch) >= BATCH:
            flush()
            batch = []
    if batch:
        flush()
    return out


_INSERT_SELECT = (
    "INSERT INTO labeling_item (project_id, kind, external_id, data, media, content_hash, "
    "original_filename, thumbnail, waveform, quality, metadata, target, slots_taken, is_gold, "
    "gold_value, created_at) "
    "SELECT %s, 'record', external_id, {data}, '', '', '', '', '', {quality}, {metadata}, %s, 0, false, "
    "NULL, now() FROM {table}{order} ON CONFLICT (project_id, external_id) DO NOTHING"
)
_SKIPPED_IDS = (
    "SELECT t.external_id FROM {table} t JOIN labeling_item i "
    "ON i.project_id = %s AND i.external_id = t.external_id "
    "WHERE i.id <= %s LIMIT {limit}"  # ids drawn before this INSERT: rows that were already there
)
_LAST_ID = "SELECT last_value FROM pg_sequences WHERE schemaname = current_schema() AND sequencename = %s"


def _finish_copy(
    cursor, project: Project, table: str, out: _Inserted, exprs: dict, params: list, report: ParseReport
) -> None:
    order = ""
    if report.repeats_possible():  # ids repeated in the file: name them; the first one wins
        cursor.execute(f"SELECT count(*) - count(DISTINCT external_id) FROM {table}")  # noqa: S608
        report.duplicate_count = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT external_id FROM {table} GROUP BY external_id HAVING count(*) > 1 "  # noqa: S608
            f"ORDER BY min(ctid) LIMIT {MAX_LISTED}"
        )
        report.duplicates_in_file = [r[0] for r in cursor.fetchall()]
        out.total -= report.duplicate_count
        order = " ORDER BY ctid"  # file order (a fresh temporary table is stored as written)
    cursor.execute("SELECT pg_get_serial_sequence('labeling_item', 'id')")
    sequence = cursor.fetchone()[0].rsplit(".", 1)[-1].strip('"')
    cursor.execute(_LAST_ID, [sequence])
    last_id = (cursor.fetchone() or [None])[0] or 0
    sql = _INSERT_SELECT.format(table=table, order=order, **exprs)
    cursor.execute(sql, [project.id, *params, project.overlap])
    out.created = cursor.rowcount
    if out.created < out.total:
        cursor.execute(_SKIPPED_IDS.format(table=table, limit=MAX_LISTED), [project.id, last_id])
        out.skipped_ids = [r[0] for r in cursor.fetchall()]


def _insert_rows_copy(
    project: Project, rows: Iterator[ParsedRow], stats: RecordStats, report: ParseReport
) -> _Inserted:
    """PostgreSQL: COPY rows (JSON made in Python) into a temporary table, then one INSERT … ON
    CONFLICT DO NOTHING."""
    out = _Inserted()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS concord_import")  # an earlier file of the same import
        cursor.execute(
            "CREATE TEMP TABLE concord_import (external_id text, data jsonb, metadata jsonb, quality jsonb) "
            "ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            "COPY concord_import (external_id, data, metadata, quality) FROM STDIN"
        ) as copy:
            for row in rows:
                out.total += 1
                quality = stats.add(row.data)
                copy.write_row(
                    (
                        row.external_id,
                        row.data_json,
                        row.metadata_json,
                        f'{{"missing": {quality["missing"]}, "fields": {quality["fields"]}}}',
                    )
                )
        _finish_copy(
            cursor,
            project,
            "concord_import",
            out,
            {"data": "data", "quality": "quality", "metadata": "metadata"},
            [],
            report,
        )
    return out


def _jsonb_object(pairs: list[tuple[str, str]]) -> tuple[str, list]:
    """SQL building a jsonb object from (key, SQL expression) pairs; keys are parameters."""
    if not pairs:
        return "'{}'::jsonb", []
    parts, params = [], []
    for start in range(0, len(pairs), 50):  # jsonb_build_object takes at most 100 arguments
        chunk = pairs[start : start + 50]
        parts.append("jsonb_build_object(" + ", ".join(f"%s::text, {expr}" for _, expr in chunk) + ")")
        params += [key for key, _ in chunk]
    return "(" + " || ".join(parts) + ")", params


def _insert_csv_arrow(
    project: Project, file: RecordFile, metadata_columns, report: ParseReport, stats: RecordStats, wrap
) -> _Inserted:
    """PostgreSQL and CSV: Arrow parses and checks the file by blocks, PostgreSQL builds the JSON.

    Every cell goes into a text column of a temporary table through ``COPY``; one
    ``INSERT … SELECT jsonb_build_object(…) … ON CONFLICT DO NOTHING`` makes the items.
    """
    from labeling.imports.tabular import csv_batches, csv_layout, read_header, table_to_copy_csv

    layout = csv_layout(read_header(file.source), metadata_columns)
    data_cols = {name: f"c{i}" for i, name in enumerate(layout.data_columns)}
    meta_cols = {name: f"m{i}" for i, name in enumerate(layout.metadata_columns)}
    out = _Inserted()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS concord_import_csv")
        columns = ", ".join(f"{c} text" for c in ["external_id", *data_cols.values(), *meta_cols.values()])
        cursor.execute(f"CREATE TEMP TABLE concord_import_csv ({columns}) ON COMMIT DROP")
        with cursor.cursor.copy("COPY concord_import_csv FROM STDIN (FORMAT csv)") as copy:
            for table in csv_batches(wrap(file.source), layout, report, stats):
                out.total += table.num_rows
                copy.write(table_to_copy_csv(table))
        if report.error_count:
            return out
        if layout.is_pair:
            sides = {}
            params: list = []
            for side in ("left", "right"):
                pairs = [(n.split(".", 1)[1], c) for n, c in data_cols.items() if n.startswith(f"{side}.")]
                sides[side], side_params = _jsonb_object(pairs)
                params += side_params
            rest, rest_params = _jsonb_object(
                [(n, c) for n, c in data_cols.items() if not n.startswith(("left.", "right."))]
            )
            data_sql = f"(jsonb_build_object('left', {sides['left']}, 'right', {sides['right']}) || {rest})"
            data_params = params + rest_params
        else:
            data_sql, data_params = _jsonb_object(list(data_cols.items()))
        missing = " + ".join(f"({c} = '')::int" for c in data_cols.values())
        quality_sql = f"jsonb_build_object('missing', {missing}, 'fields', {len(data_cols)})"
        meta_sql, meta_params = _jsonb_object([(n, f"NULLIF({c}, '')") for n, c in meta_cols.items()])
        if meta_cols:
            meta_sql = f"jsonb_strip_nulls({meta_sql})"
        _finish_copy(
            cursor,
            project,
            "concord_import_csv",
            out,
            {"data": data_sql, "quality": quality_sql, "metadata": meta_sql},
            [*data_params, *meta_params],
            report,
        )
    return out


def _import_one(project: Project, file: RecordFile, metadata_columns, wrap) -> tuple[dict, ParseReport]:
    # Large files on PostgreSQL keep only a hash per id (flat memory); the database settles repeats.
    exact = connection.vendor != "postgresql" or file.size <= settings.CONCORD_IMPORT_INLINE_MAX_BYTES
    report, stats = ParseReport(exact=exact), RecordStats()
    if connection.vendor == "postgresql" and file.kind == "csv":
        inserted = _insert_csv_arrow(project, file, metadata_columns, report, stats, wrap)
    else:
        source = file.source
        if file.kind in ("csv", "jsonl"):
            source = wrap(source)
        rows = _python_rows(RecordFile(file.name, file.kind, source), metadata_columns, report)
        if connection.vendor == "postgresql":
            inserted = _insert_rows_copy(project, rows, stats, report)
        else:
            inserted = _insert_rows_orm(project, rows, stats)
    if not report.exact:
        stats.rows -= report.duplicate_count  # repeats were counted as they streamed by
    result = {
        "file": file.name,
        "rows": inserted.total + report.duplicate_count,
        "created": inserted.created,
        "skipped_existing": inserted.total - inserted.created,
        "skipped_existing_ids": inserted.skipped_ids[:MAX_LISTED],
        "duplicates_in_file": report.duplicates_in_file[:MAX_LISTED],
        "duplicates_in_file_count": report.duplicate_count,
        "ids_from_content": report.content_ids,
        "quality": stats.summary(),
    }
    return result, report


def _no_wrap(stream):
    return stream


@transaction.atomic
def items_import_records(
    *,
    project: Project,
    files: list[RecordFile],
    metadata_columns: frozenset[str] | set[str] = frozenset(),
    progress: Callable[[RecordFile], Callable] | None = None,
) -> dict:
    """Record files (or rows of a JSON body) into the project: one transaction, all or nothing.

    Returns the totals and one report per file (rows, created, skipped, duplicates, the
    input-quality summary per column). Raises ``Invalid`` listing every bad row.
    """
    if project.data_type != DataType.RECORD:
        raise Invalid("This project labels media: upload image or audio files (or a zip of them).")
    metadata_columns = frozenset(metadata_columns)
    results, errors = [], []
    for file in files:
        wrap = progress(file) if progress else _no_wrap
        try:
            result, report = _import_one(project, file, metadata_columns, wrap)
        except UnparseableFile as exc:
            transaction.set_rollback(True)
            raise Invalid(
                f"{file.name} cannot be read: {exc}. Nothing was imported.",
                fields={"file": [f"{file.name}: {exc}"]},
            ) from exc
        results.append(result)
        errors += [{"file": file.name, **e} for e in report.errors]
        if report.error_count > len(report.errors):
            errors.append(
                {
                    "file": file.name,
                    "line": None,
                    "reason": f"{report.error_count - len(report.errors)} more bad rows",
                }
            )
    if errors:
        transaction.set_rollback(True)
        several = len(files) > 1
        listed = [
            (f"{e['file']}, " if several else "") + (f"line {e['line']}: " if e["line"] else "") + e["reason"]
            for e in errors
        ]
        bad = sum(1 for e in errors if e["line"])
        raise Invalid(
            f"{bad} rows are invalid; nothing was imported. Fix them and send the file again.",
            fields={"rows": listed},
            extra={"report": {"errors": errors}},
        )
    totals = {
        key: sum(r[key] for r in results)
        for key in ("rows", "created", "skipped_existing", "duplicates_in_file_count")
    }
    return {**totals, "files": results}


def record_file_kind(name: str, stream) -> str:
    """csv, jsonl, parquet or json; 400 at once for anything else, or a CSV without a header."""
    head = stream.read(2048)
    stream.seek(0)
    kind = record_kind(name, head)
    if kind is None or sniff(head[:16]) is not None or head.startswith(b"PK\x03\x04"):
        raise Invalid(
            f"{name}: not a CSV, JSONL, Parquet or JSON file.",
            fields={"file": [f"{name}: not a record file"]},
        )
    try:
        if kind == "csv":
            from labeling.imports.tabular import read_header

            read_header(stream)
        elif kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                header_check(pq.ParquetFile(stream).schema_arrow.names)
            except (pa.ArrowException, OSError) as exc:
                raise UnparseableFile(f"not a readable Parquet file ({exc})") from exc
            finally:
                stream.seek(0)
        else:
            try:
                codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
            except UnicodeDecodeError as exc:
                raise UnparseableFile("not UTF-8 text") from exc
    except UnparseableFile as exc:
        raise Invalid(f"{name} cannot be read: {exc}.", fields={"file": [f"{name}: {exc}"]}) from exc
    return kind


# --- starting a job --------------------------------------------------------------------------


def _media_upload_kind(project: Project, name: str, stream) -> str:
    """zip, media or sidecar (a CSV keyed by file name); 400 at once for anything else."""
    head = stream.read(4096)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            archive_check(stream)
        except UnparseableFile as exc:
            raise Invalid(f"{name}: {exc}.", fields={"file": [f"{name}: {exc}"]}) from exc
        finally:
            stream.seek(0)
        return "zip"
    kind = sniff(head[:16])
    if kind is not None and kind != project.data_type:
        raise Invalid(
            f"{name}: an {kind} file in an {project.data_type} project.",
            fields={"file": [f"{name}: {kind} file in an {project.data_type} project"]},
        )
    if kind is not None:
        return "media"
    try:
        first = next(csv.reader(io.StringIO(head.decode("utf-8-sig"))), [])
    except (UnicodeDecodeError, csv.Error):
        first = []
    if any(key in first for key in SIDECAR_KEYS):
        return "sidecar"
    raise Invalid(
        f"{name}: not an image (JPEG, PNG, WebP), audio file (WAV, FLAC, OGG, MP3), zip of them, "
        "or a metadata CSV with a 'file' column.",
        fields={"file": [f"{name}: not an accepted file"]},
    )


def items_import_start(
    *,
    project: Project,
    uploads: list,
    requested_by: AbstractBaseUser,
    metadata_columns: frozenset[str] | set[str] = frozenset(),
    body: bytes | None = None,
) -> Job:
    """Check the uploads, store them in a per-job folder and start the import job.

    Record files are checked for a readable header, media uploads by their bytes (zips by
    their whole directory: unsafe entries are refused here with a 400, before anything is
    stored). ``body`` is a large JSON body, imported like a ``.json`` file.
    """
    from labeling.tasks import items_import_task

    files = []
    if project.data_type == DataType.RECORD:
        for upload in uploads:
            files.append((upload, record_file_kind(upload.name, upload)))
    else:
        if body is not None:
            raise Invalid("This project labels media: upload image or audio files (or a zip of them).")
        for upload in uploads:
            files.append((upload, _media_upload_kind(project, upload.name, upload)))
        if all(kind == "sidecar" for _, kind in files):
            raise Invalid(
                "Only metadata CSVs were sent; add the media files.", fields={"file": ["No media."]}
            )
    folder = f"imports/{uuid.uuid4().hex}"
    stored = []
    try:
        if body is not None:
            name = default_storage.save(f"{folder}/{uuid.uuid4().hex}", ContentFile(body))
            stored.append({"path": name, "filename": "request body", "kind": "json", "size": len(body)})
        for upload, kind in files:
            name = default_storage.save(f"{folder}/{uuid.uuid4().hex}", upload)
            stored.append(
                {"path": name, "filename": sanitize_filename(upload.name), "kind": kind, "size": upload.size}
            )
        with transaction.atomic():
            job = job_create(
                kind=JobKind.IMPORT_ITEMS,
                project=project,
                created_by=requested_by,
                params={"files": stored, "folder": folder, "metadata_columns": sorted(metadata_columns)},
            )
            job_dispatch(job=job, task=items_import_task)
    except Exception:
        import_files_remove(folder, stored)  # the job never started (broker down…): leave nothing behind
        raise
    return job


def import_files_remove(folder: str, stored: list[dict]) -> None:
    """Delete stored uploads and their per-job folder (never anything outside ``imports/``)."""
    for entry in stored:
        with contextlib.suppress(OSError, NotImplementedError):
            default_storage.delete(entry["path"])
    if folder.startswith("imports/"):
        with contextlib.suppress(OSError, NotImplementedError):
            os.rmdir(default_storage.path(folder))


# --- the job ---------------------------------------------------------------------------------


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
    project = job.project
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


def _note_rejected(result: dict, name: str, reason: str) -> None:
    result["rejected_count"] += 1
    if len(result["rejected"]) < MAX_REJECTED:
        result["rejected"].append({"file": sanitize_filename(name), "reason": reason})


@dataclass
class _Pending:
    name: str
    external_id: str
    digest: str
    content: bytes
    processed: object
    metadata: dict


class _MediaBatch:
    """Accepted media wait here and are written in batches: one query finds the ids already in
    the project, files are stored only for new items, one INSERT per batch in its own
    transaction (a worker killed mid-job leaves whole batches; its redelivery skips them).
    A batch is written at 32 MB, a quarter of a second, or a number of files that starts at 10
    and doubles up to 100, so the first items appear at once and the rest as the job goes."""

    MAX_ITEMS = 100
    MAX_BYTES = 32 * 1024**2
    MAX_SECONDS = 0.25

    def __init__(self, project: Project, result: dict):
        self.project, self.result = project, result
        self.pending: list[_Pending] = []
        self.bytes = 0
        self.started = 0.0
        self.limit = 10

    def add(self, name: str, content: bytes, metadata: dict) -> None:
        try:
            processed = process_media(content)
        except RejectedMedia as exc:
            _note_rejected(self.result, name, str(exc))
            return
        if processed.kind != self.project.data_type:
            _note_rejected(self.result, name, f"{processed.kind} file in a {self.project.data_type} project")
            return
        digest = hashlib.sha256(content).hexdigest()
        external_id = str(metadata.pop("external_id", "") or digest)[:255]
        if not self.pending:
            self.started = time.monotonic()
        self.pending.append(_Pending(name, external_id, digest, content, processed, metadata))
        self.bytes += len(content)
        if (
            len(self.pending) >= self.limit
            or self.bytes >= self.MAX_BYTES
            or time.monotonic() - self.started >= self.MAX_SECONDS
        ):
            self.flush()

    def _skip(self, external_id: str) -> None:
        self.result["skipped_existing"] += 1
        if len(self.result["skipped_existing_ids"]) < MAX_LISTED:
            self.result["skipped_existing_ids"].append(external_id)

    def _item(self, entry: _Pending) -> Item:
        item = Item(
            project=self.project,
            kind=self.project.data_type,
            external_id=entry.external_id,
            content_hash=entry.digest,
            original_filename=sanitize_filename(entry.name),
            metadata=entry.metadata,
            quality=entry.processed.quality,
            target=self.project.overlap,
        )
        stem = uuid.uuid4().hex  # stored under a server-made name, never the uploaded one
        item.media.save(f"{stem}{entry.processed.suffix}", ContentFile(entry.content), save=False)
        if entry.processed.thumbnail:
            item.thumbnail.save(f"{stem}.jpg", ContentFile(entry.processed.thumbnail), save=False)
        if entry.processed.waveform:
            item.waveform.save(f"{stem}.json", ContentFile(entry.processed.waveform), save=False)
        return item

    @staticmethod
    def _delete_files(item: Item) -> None:
        for stored in (item.media, item.thumbnail, item.waveform):
            if stored:
                stored.delete(save=False)

    def flush(self) -> None:
        pending, self.pending, self.bytes = self.pending, [], 0
        self.limit = min(self.MAX_ITEMS, self.limit * 2)
        if not pending:
            return
        existing = set(
            Item.objects.filter(
                project=self.project, external_id__in={p.external_id for p in pending}
            ).values_list("external_id", flat=True)
        )
        items = []
        for entry in pending:
            if entry.external_id in existing:
                self._skip(entry.external_id)
            else:
                existing.add(entry.external_id)  # the same file twice in one upload
                items.append(self._item(entry))
        try:
            with transaction.atomic():
                Item.objects.bulk_create(items)
            self.result["created"] += len(items)
        except IntegrityError:  # a concurrent import took some of these ids: one by one
            for item in items:
                try:
                    with transaction.atomic():
                        item.save()
                    self.result["created"] += 1
                except IntegrityError:
                    self._delete_files(item)
                    self._skip(item.external_id)


def _run_media(job: Job, progress: ProgressFn) -> dict:
    project = job.project
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
    batch = _MediaBatch(project, result)
    throttled = _Throttled(progress)
    for index, entry in enumerate(media):
        with default_storage.open(entry["path"], "rb") as handle:
            if entry.get("kind") == "zip" or handle.read(4) == b"PK\x03\x04":
                handle.seek(0)
                try:
                    archive = open_archive(handle)
                except UnparseableFile as exc:
                    _note_rejected(result, entry["filename"], str(exc))
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
    return result


def items_import_run(job: Job, progress: ProgressFn) -> dict:
    """The import job: record files (all or nothing) or media files and zips (each file its own
    unit). The per-job folder of uploads is removed when the job ends, whatever happened."""
    try:
        if job.project.data_type == DataType.RECORD:
            return _run_records(job, progress)
        return _run_media(job, progress)
    finally:
        import_files_remove(job.params.get("folder") or "", job.params["files"])
