# ruff: noqa: S608 — only constant SQL fragments are interpolated here; every value is a bound parameter.
"""The PostgreSQL fast path for JSONL and CSV exports: PostgreSQL computes each item's current
label (the rules of ``selectors.labels``, stated in SQL) and writes each row's text itself, in
item order, straight from the indexes, so the first rows leave at once and memory stays flat
(JSONL through a server-side cursor in batches, CSV through ``COPY … TO STDOUT``).

Rows, filters and splits equal the reference path (``rows.export_rows``, used for Parquet, COCO,
Label Studio, ``include=answers``, slice stratification and other databases); the model-based
test in tests/consistency/test_labels_model.py holds them equal. Splits are assigned here while
the rows stream, exactly as the reference does it: each row carries its stratum key (an md5 of
the label) and whether it passes the filters; every row advances its stratum's position, and
only kept rows are written. The fast path serves categorical projects, whose labels are class
names.
"""

import hashlib
import json
from collections.abc import Iterator

from django.db import connection, transaction
from psycopg.adapt import Loader

from consistency.exports import strata
from consistency.exports.formats import CSV_COLUMNS
from consistency.exports.params import ExportParams
from consistency.exports.splits import SplitAssigner
from consistency.exports.sql import rows_sql
from consistency.models import ItemResult, Review
from consistency.selectors.labels import LabelContext
from labeling.models import Item, LabelClass, LabelKind, Project

CATEGORICAL = {LabelKind.CLASSES, LabelKind.RATING}
FLUSH_BYTES = 1 << 20
FETCH_ROWS = 5_000


def fast_path_applies(*, project: Project, params: ExportParams) -> bool:
    applies = (
        connection.vendor == "postgresql"
        and params.format in ("jsonl", "csv")
        and project.label_kind in CATEGORICAL
        and not params.include_answers
        and not params.stratify_by
        and not params.include_quality  # the reference path writes the extra column
    )
    return applies


def _escape(column: str) -> str:
    """Formula-looking cells get a leading apostrophe, as the reference CSV writer does."""
    return f"CASE WHEN {column} ~ '^[=+@\\t\\r-]' THEN '''' || {column} ELSE {column} END"


def _jsonl_query(params: ExportParams, rows_sql: str) -> str:
    """JSON text by concatenation: about twice as fast as json_build_object here, and the same
    JSON (to_json quotes text; jsonb and numbers print as JSON already), keys in sorted order as
    the reference writer sorts them. Without a split PostgreSQL writes whole lines and drops the
    rows the filters leave out; with one, Python adds split and status while assigning splits."""
    if not params.split:
        tail = """|| ',"split":null,"status":' || to_json(s.status)::text || '}'"""
        head, where = "SELECT", "WHERE s.keep"
    else:
        tail, head, where = "", "SELECT s.stratum, s.keep, s.status::text,", ""
    return f"""
            {head}
                '{{"agreement":' || coalesce(s.agreement::text, 'null')
                || ',"confidence":' || coalesce(s.confidence::text, 'null')
                || ',"consensus":' || coalesce(s.consensus::text, 'null')
                || ',"data":' || s.data::text
                || ',"external_id":' || to_json(s.external_id)::text
                || ',"is_gold":' || s.is_gold::text
                || ',"is_tie":' || s.is_tie::text
                || ',"item_id":' || s.item_id
                || ',"label":' || coalesce(s.label::text, 'null')
                || ',"label_source":' || coalesce(to_json(s.label_source)::text, 'null')
                || ',"media":' || coalesce(to_json(s.media)::text, 'null')
                || ',"metadata":' || s.metadata::text
                || ',"method":' || to_json(s.method)::text
                || ',"n_answers":' || s.n_answers
                || ',"resolved_at":' || coalesce(to_json(s.resolved_text)::text, 'null')
                || ',"resolved_by":' || coalesce(to_json(s.resolved_by)::text, 'null')
                || ',"schema_version":' || %(version)s {tail}
            FROM ({rows_sql}) s {where}
        """


def _copy_statement(params: ExportParams, rows_sql: str) -> str:
    def text(column: str) -> str:
        return f"CASE WHEN jsonb_typeof({column}) = 'string' THEN {column} #>> '{{}}' ELSE {column}::text END"

    query = f"""
        SELECT s.stratum, CASE WHEN s.keep THEN 't' ELSE 'f' END, s.item_id, {_escape("s.external_id")},
               {_escape(text("s.label"))}, s.label_source, {_escape(text("s.consensus"))}, s.method,
               s.confidence, s.agreement, s.n_answers,
               CASE WHEN s.is_gold THEN 'true' ELSE 'false' END,
               CASE WHEN s.is_tie THEN 'true' ELSE 'false' END,
               {_escape("s.resolved_by")}, s.resolved_text, s.status,
               %(version)s, {_escape("s.media")}, {_escape("s.data::text")},
               {_escape("s.metadata::text")}, NULL
        FROM ({rows_sql}) s
    """
    return f"COPY ({query}) TO STDOUT WITH (FORMAT csv)"


def fast_stream(*, project: Project, ctx: LabelContext, params: ExportParams) -> Iterator[bytes]:
    rows, args = rows_sql(project, ctx, params)
    assigner = SplitAssigner(params.split, params.seed) if params.split else None
    texts = _strata(project, ctx) if assigner else {}
    # One transaction: SET LOCAL dies with it, so behind PgBouncer (transaction pooling) the
    # settings never leak to another client's server connection.
    with transaction.atomic(), connection.cursor() as cursor:
        # Stream in item order straight from the indexes: no hash table to build before row one.
        # No JIT: compiling this query's expressions took 1.9 s before the first row (1M items).
        cursor.execute("SET LOCAL enable_hashjoin = off; SET LOCAL jit = off")
        if params.format == "jsonl":
            yield from _jsonl_stream(cursor, _jsonl_query(params, rows), args, assigner, texts)
        else:
            yield from _csv_stream(cursor, _copy_statement(params, rows), args, assigner, texts)


def _jsonl_stream(cursor, query: str, args: dict, assigner, texts: dict[bytes, str]) -> Iterator[bytes]:
    """Rows in batches through a server-side cursor: one round trip per FETCH_ROWS rows (COPY
    sends a message per row, and reading a million messages cost more than writing them)."""
    sql = cursor.cursor.mogrify(query, args)  # the values bound here, as Django binds them
    with transaction.atomic(), connection.connection.cursor(name="concord_export") as rows:
        # Text columns as the UTF-8 bytes PostgreSQL sent: decoding 380 MB to str only to encode
        # it again cost about a fifth of the export's time.
        rows.adapters.register_loader("text", _RawText)
        rows.execute(sql)
        while batch := rows.fetchmany(FETCH_ROWS):
            if assigner is None:
                yield b"\n".join([line for (line,) in batch]) + b"\n"
                continue
            out = []
            for key, keep, status, payload in batch:
                split = assigner.assign(texts[key])
                if keep:
                    out.append(b'%s,"split":"%s","status":"%s"}' % (payload, split.encode(), status))
            if out:
                yield b"\n".join(out) + b"\n"


class _RawText(Loader):
    def load(self, data) -> bytes:
        return bytes(data)


def _whole_rows(pieces: list[bytes]) -> tuple[list[bytes], bytes]:
    """CSV rows from newline-separated pieces, and what is left of an unfinished row.

    PostgreSQL quotes a CSV cell holding a line break (a class "x\ny", an external id, record
    text) and doubles the quotes inside cells, so a row is whole exactly when it holds an even
    number of quote characters; a piece that leaves the count odd is joined with the next one,
    its newline restored. The leftover (with its newline) goes before the next block.
    """
    rows: list[bytes] = []
    pending = b""
    for piece in pieces:
        row = pending + piece
        if row.count(b'"') % 2:
            pending = row + b"\n"
        else:
            pending = b""
            rows.append(row)
    return rows, pending


def _csv_stream(cursor, copy_sql: str, args: dict, assigner, texts: dict[bytes, str]) -> Iterator[bytes]:
    yield (",".join(CSV_COLUMNS) + "\n").encode()
    with cursor.cursor.copy(copy_sql, args) as stream:
        out = bytearray()
        tail = b""
        for block in stream:
            lines = (tail + bytes(block)).split(b"\n")
            tail = lines.pop()
            lines, unfinished = _whole_rows(lines)  # a CSV cell may hold a line break
            tail = unfinished + tail
            for line in lines:
                key, keep, payload = line.split(b",", 2)
                split = assigner.assign(texts[key]) if assigner else None
                if keep != b"t":
                    continue
                out += payload + (b"," + split.encode() if split else b",") + b"\n"
            if len(out) >= FLUSH_BYTES:
                yield bytes(out)
                out.clear()
        if out:
            yield bytes(out)


def _strata(project: Project, ctx: LabelContext) -> dict[bytes, str]:
    """md5 of each label as PostgreSQL writes it → the stratum text the reference path uses:
    every class name any version had, and any stored decision or run consensus outside them."""
    values: set = {None} | set(
        LabelClass.objects.filter(schema_version__project=project).values_list("name", flat=True).distinct()
    )
    values |= set(Item.objects.filter(project=project, is_gold=True).values_list("gold_value", flat=True))
    values |= set(Review.objects.filter(project=project).values_list("final_value", flat=True))
    if ctx.run_usable:
        if strata.applies(ctx):
            # The run's labels from its per-label counts (cached per run, warmed when it ends):
            # a DISTINCT over every result put 7.9 s before the first row at 2M items.
            values |= {None if label is None else json.loads(label) for label in strata.run_labels(ctx)}
        else:
            values |= set(
                ItemResult.objects.filter(run=ctx.run).values_list("consensus", flat=True).distinct()
            )
    out = {}
    for value in values:
        if isinstance(value, list | dict):
            continue  # categorical labels are names
        text = json.dumps(value, ensure_ascii=False)
        out[hashlib.md5(text.encode(), usedforsecurity=False).hexdigest().encode()] = text
    return out
