"""Starting an import: what a file is, and whether it runs in the request or as a job."""

import codecs
import contextlib
import csv
import io
import uuid

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from core.errors import Invalid
from core.jobs.models import Job
from core.jobs.services import job_create, job_dispatch
from labeling.imports.archive import archive_check
from labeling.imports.media import sanitize_filename, sniff
from labeling.imports.records import (
    UnparseableFile,
    header_check,
    record_kind,
)
from labeling.imports.tabular import read_header
from labeling.models import DataType, JobKind, Project
from labeling.services.items.records import SIDECAR_KEYS
from labeling.storage import StorageUnavailable, folder_remove, storage_guard


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
    # One sentence, said once: the field repeats the message rather than saying it again differently.
    reason = (
        f"{name}: not an image (JPEG, PNG, WebP), audio file (WAV, FLAC, OGG, MP3), zip of them, "
        "or a metadata CSV with a 'file' column."
    )
    raise Invalid(reason, fields={"file": [reason]})


def items_import_start(
    *,
    project: Project,
    uploads: list,
    requested_by: User,
    metadata_columns: frozenset[str] | set[str] = frozenset(),
    body: bytes | None = None,
) -> Job:
    """Check the uploads, store them in a per-job folder and start the import job.

    Record files are checked for a readable header, media uploads by their bytes (zips by
    their whole directory: unsafe entries are refused here with a 400, before anything is
    stored). ``body`` is a large JSON body, imported like a ``.json`` file.
    """

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
        with storage_guard():  # bucket down: 503 + Retry-After, and what was stored is removed below
            if body is not None:
                name = default_storage.save(f"{folder}/{uuid.uuid4().hex}", ContentFile(body))
                stored.append({"path": name, "filename": "request body", "kind": "json", "size": len(body)})
            for upload, kind in files:
                name = default_storage.save(f"{folder}/{uuid.uuid4().hex}", upload)
                stored.append(
                    {
                        "path": name,
                        "filename": sanitize_filename(upload.name),
                        "kind": kind,
                        "size": upload.size,
                    }
                )
        with transaction.atomic():
            job = job_create(
                kind=JobKind.IMPORT_ITEMS,
                project=project,
                created_by=requested_by,
                params={"files": stored, "folder": folder, "metadata_columns": sorted(metadata_columns)},
            )
            job_dispatch(job=job)
    except Exception:
        import_files_remove(folder, stored)  # the job never started (broker down…): leave nothing behind
        raise
    return job


def import_files_remove(folder: str, stored: list[dict]) -> None:
    """Delete stored uploads and their per-job folder (never anything outside ``imports/``)."""
    for entry in stored:
        with contextlib.suppress(StorageUnavailable), storage_guard():
            default_storage.delete(entry["path"])
    if folder.startswith("imports/"):
        with contextlib.suppress(StorageUnavailable), storage_guard():
            folder_remove(folder)
