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

from labeling.imports.record_stats import RecordStats
from labeling.imports.records import record_kind
from labeling.services.items.records import (
    ImportRefused,
    RecordFile,
    import_runs_in_request,
    items_import_records,
)
from labeling.services.items.run import items_import_run
from labeling.services.items.start import import_files_remove, items_import_start, record_file_kind

__all__ = [
    "ImportRefused",
    "RecordFile",
    "RecordStats",
    "import_files_remove",
    "import_runs_in_request",
    "items_import_records",
    "items_import_run",
    "items_import_start",
    "record_file_kind",
    "record_kind",
]
