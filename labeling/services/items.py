"""Importing items: records in the request (streamed, bulk inserted), media as a job.

Rules (also in the API docs):
* A record file (CSV, JSONL, Parquet) or JSON list is one transaction: if any row is bad,
  nothing is written and the answer lists every bad row with its line and reason.
* Media files and zip archives are imported by a background job; each media file is its own
  unit, so valid files are kept and each rejected file is reported with its name and reason.
* Idempotent: an existing ``external_id`` (media without one use their SHA-256) is skipped and
  reported; duplicates inside one file are reported too.
"""

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction

from labeling.errors import Invalid
from labeling.imports.archive import media_entries, open_archive, sidecar
from labeling.imports.media import RejectedMedia, process_media, sanitize_filename, sniff
from labeling.imports.records import (
    ParsedRow,
    ParseReport,
    UnparseableFile,
    parse_csv,
    parse_json_list,
    parse_jsonl,
    parse_parquet,
)
from labeling.models import DataType, Item, Job, JobKind, Project
from labeling.services.jobs import ProgressFn, job_create, job_dispatch

BATCH = 5_000
RECORD_SUFFIXES = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".json": "json",
}


class RecordStats:
    """Input-quality figures of a record import: missing values, distinct values, numeric ranges."""

    MAX_DISTINCT = 1000

    def __init__(self):
        self.rows = 0
        self.missing: dict[str, int] = {}
        self.distinct: dict[str, set] = {}
        self.ranges: dict[str, list[float]] = {}

    def add(self, data: dict) -> dict:
        self.rows += 1
        flat = {
            f"{side}.{k}": v for side, sub in data.items() if isinstance(sub, dict) for k, v in sub.items()
        }
        flat |= {k: v for k, v in data.items() if not isinstance(v, dict)}
        missing = 0
        for key, value in flat.items():
            if value in (None, ""):
                self.missing[key] = self.missing.get(key, 0) + 1
                missing += 1
                continue
            seen = self.distinct.setdefault(key, set())
            if len(seen) <= self.MAX_DISTINCT:
                seen.add(str(value))
            number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
            if number is None and isinstance(value, str):
                try:
                    number = float(value)
                except ValueError:
                    number = None
            if number is not None:
                low_high = self.ranges.setdefault(key, [number, number])
                low_high[0], low_high[1] = min(low_high[0], number), max(low_high[1], number)
        return {"missing": missing, "fields": len(flat)}

    def summary(self) -> dict:
        columns = sorted(set(self.distinct) | set(self.missing))
        return {
            "rows": self.rows,
            "columns": {
                c: {
                    "missing": self.missing.get(c, 0),
                    "distinct": len(self.distinct.get(c, ()))
                    if len(self.distinct.get(c, ())) <= self.MAX_DISTINCT
                    else f">{self.MAX_DISTINCT}",
                    **({"min": self.ranges[c][0], "max": self.ranges[c][1]} if c in self.ranges else {}),
                }
                for c in columns
            },
        }


def _insert_records(
    project: Project, rows: Iterable[ParsedRow], stats: RecordStats
) -> tuple[int, list[str], int]:
    """Insert rows; returns (created, skipped external_ids (first 1000), total rows)."""
    if connection.vendor == "postgresql":
        return _insert_records_copy(project, rows, stats)
    total, created, skipped = 0, 0, []
    batch: list[Item] = []

    def flush():
        nonlocal created
        ids = [item.external_id for item in batch]
        existing = set(
            Item.objects.filter(project=project, external_id__in=ids).values_list("external_id", flat=True)
        )
        fresh = [item for item in batch if item.external_id not in existing]
        Item.objects.bulk_create(fresh)
        created += len(fresh)
        skipped.extend(sorted(existing)[: max(0, 1000 - len(skipped))])

    for row in rows:
        total += 1
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
    return created, skipped, total


def _insert_records_copy(project: Project, rows: Iterable[ParsedRow], stats: RecordStats):
    """PostgreSQL: COPY into a temporary table, then one INSERT … ON CONFLICT DO NOTHING."""
    total = 0
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS concord_import")  # a savepoint-nested import in one transaction
        cursor.execute(
            "CREATE TEMP TABLE concord_import (external_id text, data jsonb, metadata jsonb, quality jsonb) "
            "ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            "COPY concord_import (external_id, data, metadata, quality) FROM STDIN"
        ) as copy:
            dumps = json.dumps
            for row in rows:
                total += 1
                copy.write_row(
                    (row.external_id, dumps(row.data), dumps(row.metadata), dumps(stats.add(row.data)))
                )
        cursor.execute(
            "INSERT INTO labeling_item (project_id, kind, external_id, data, media, content_hash, "
            "original_filename, thumbnail, waveform, quality, metadata, target, slots_taken, is_gold, "
            "gold_value, created_at) "
            "SELECT %s, 'record', external_id, data, '', '', '', '', '', quality, metadata, %s, 0, false, "
            "NULL, now() "
            "FROM concord_import ON CONFLICT (project_id, external_id) DO NOTHING",
            [project.id, project.overlap],
        )
        created = cursor.rowcount
        skipped = []
        if created < total:
            cursor.execute(
                "SELECT t.external_id FROM concord_import t JOIN labeling_item i "
                "ON i.project_id = %s AND i.external_id = t.external_id "
                "WHERE i.created_at < now() LIMIT 1000",  # now() is this transaction's start: old rows only
                [project.id],
            )
            skipped = [r[0] for r in cursor.fetchall()]
    return created, skipped, total


def _parse(kind: str, source, metadata_columns: set[str], report: ParseReport):
    if kind == "csv":
        return parse_csv(source, metadata_columns, report)
    if kind == "jsonl":
        return parse_jsonl(source, metadata_columns, report)
    if kind == "parquet":
        return parse_parquet(source, metadata_columns, report)
    try:
        items = json.load(source)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UnparseableFile(f"not valid JSON ({exc})") from exc
    if not isinstance(items, list):
        raise UnparseableFile("a JSON file must hold a list of rows")
    return parse_json_list(items, metadata_columns, report)


def record_kind(filename: str, head: bytes) -> str | None:
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if head.startswith(b"PAR1"):
        return "parquet"
    if suffix in RECORD_SUFFIXES and suffix != ".parquet":
        return RECORD_SUFFIXES[suffix]
    stripped = head.lstrip()
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    return None


@transaction.atomic
def items_import_records(
    *, project: Project, source, kind: str, metadata_columns: set[str] = frozenset()
) -> dict:
    """One record file (or a parsed JSON list) into the project, all or nothing."""
    if project.data_type != DataType.RECORD:
        raise Invalid("This project labels media: upload image or audio files (or a zip of them).")
    report = ParseReport()
    stats = RecordStats()
    try:
        if kind == "rows":
            rows = parse_json_list(source, metadata_columns, report)
        else:
            rows = _parse(kind, source, metadata_columns, report)
        created, skipped, total = _insert_records(project, rows, stats)
    except UnparseableFile as exc:
        transaction.set_rollback(True)
        raise Invalid(f"The file cannot be read: {exc}", fields={"file": [str(exc)]}) from exc
    if report.errors:
        transaction.set_rollback(True)
        raise Invalid(
            f"{len(report.errors)} rows are invalid; nothing was imported. Fix them and send the file again.",
            fields={"rows": [f"line {e['line']}: {e['reason']}" for e in report.errors]},
            extra={"report": {"errors": report.errors}},
        )
    return {
        "created": created,
        "skipped_existing": total - created,
        "skipped_existing_ids": skipped[:100],
        "duplicates_in_file": report.duplicates_in_file[:100],
        "duplicates_in_file_count": len(report.duplicates_in_file),
        "rows": total + len(report.duplicates_in_file),
        "quality": stats.summary(),
    }


def items_import_media_request(*, project: Project, uploads: list, requested_by: AbstractBaseUser) -> Job:
    """Store the uploads where the worker can read them and start an import job."""
    from labeling.tasks import items_import_media_task

    if project.data_type == DataType.RECORD:
        raise Invalid("This project labels records: upload CSV, JSONL, Parquet or JSON.")
    stored = []
    folder = f"imports/{uuid.uuid4().hex}"
    for upload in uploads:
        name = default_storage.save(f"{folder}/{uuid.uuid4().hex}", upload)
        stored.append({"path": name, "filename": sanitize_filename(upload.name)})
    with transaction.atomic():
        job = job_create(
            kind=JobKind.IMPORT_ITEMS, project=project, created_by=requested_by, params={"files": stored}
        )
        job_dispatch(job=job, task=items_import_media_task)
    return job


def _sidecar_rows(content: bytes | None) -> dict[str, dict]:
    if not content:
        return {}
    reader = csv.DictReader(io.StringIO(content.decode("utf-8-sig", errors="replace")))
    key = next((k for k in (reader.fieldnames or []) if k in ("file", "filename", "file_name")), None)
    if key is None:
        return {}
    return {row[key].rsplit("/", 1)[-1]: {k: v for k, v in row.items() if k != key and v} for row in reader}


def _add_media(project: Project, name: str, content: bytes, metadata: dict, result: dict) -> None:
    try:
        processed = process_media(content)
    except RejectedMedia as exc:
        result["rejected"].append({"file": sanitize_filename(name), "reason": str(exc)})
        return
    if processed.kind != project.data_type:
        result["rejected"].append(
            {
                "file": sanitize_filename(name),
                "reason": f"{processed.kind} file in a {project.data_type} project",
            }
        )
        return
    digest = hashlib.sha256(content).hexdigest()
    external_id = str(metadata.pop("external_id", "") or digest)
    if Item.objects.filter(project=project, external_id=external_id).exists():
        result["skipped_existing"] += 1
        return
    item = Item(
        project=project,
        kind=project.data_type,
        external_id=external_id,
        content_hash=digest,
        original_filename=sanitize_filename(name),
        metadata=metadata,
        quality=processed.quality,
        target=project.overlap,
    )
    stem = uuid.uuid4().hex
    item.media.save(f"{stem}{processed.suffix}", ContentFile(content), save=False)
    if processed.thumbnail:
        item.thumbnail.save(f"{stem}.jpg", ContentFile(processed.thumbnail), save=False)
    if processed.waveform:
        item.waveform.save(f"{stem}.json", ContentFile(processed.waveform), save=False)
    item.save()
    result["created"] += 1


def _import_upload(project: Project, entry: dict, result: dict) -> None:
    with default_storage.open(entry["path"], "rb") as handle:
        head = handle.read(16)
        handle.seek(0)
        if head.startswith(b"PK\x03\x04"):
            archive = open_archive(handle)
            side = _sidecar_rows(sidecar(archive))
            for name, content in media_entries(archive):
                _add_media(project, name, content, dict(side.get(name.rsplit("/", 1)[-1], {})), result)
        elif sniff(head) is not None:
            _add_media(project, entry["filename"], handle.read(), {}, result)
        else:
            result["rejected"].append(
                {"file": entry["filename"], "reason": "not an image, audio file or zip"}
            )


def items_import_media(job: Job, progress: ProgressFn) -> dict:
    """The import job: each stored upload is a media file or a zip of media (+ metadata.csv)."""
    project = job.project
    result = {"created": 0, "skipped_existing": 0, "rejected": [], "files": len(job.params["files"])}
    try:
        for index, entry in enumerate(job.params["files"]):
            try:
                _import_upload(project, entry, result)
            except UnparseableFile as exc:
                result["rejected"].append({"file": entry["filename"], "reason": str(exc)})
            progress(int(95 * (index + 1) / len(job.params["files"])))
    finally:
        for entry in job.params["files"]:
            default_storage.delete(entry["path"])
    return result
