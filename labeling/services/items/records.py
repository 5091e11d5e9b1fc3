"""Record imports: rows parsed as a stream and written in bulk (COPY on PostgreSQL), all or nothing."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction

from core.errors import Invalid
from labeling.imports.record_stats import RecordStats
from labeling.imports.records import (
    ParsedRow,
    ParseReport,
    UnparseableFile,
    load_json_list,
    parse_csv,
    parse_json_list,
    parse_jsonl,
    parse_parquet,
)
from labeling.imports.tabular import csv_batches, csv_layout, read_header, table_to_copy_csv
from labeling.models import DataType, Item, Project

BATCH = 5_000
MAX_LISTED = 100
MAX_REJECTED = 1000
SIDECAR_KEYS = ("file", "filename", "file_name")


@dataclass
class RecordFile:
    """One record source of an import: a binary stream (csv, jsonl, parquet, json) or, for the
    kind ``rows``, the rows themselves (a request body's JSON list)."""

    name: str
    kind: str
    source: IO[bytes] | File | list[Any]
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
                target=project.initial_target,
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
    cursor.execute(sql, [project.id, *params, project.initial_target])
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
