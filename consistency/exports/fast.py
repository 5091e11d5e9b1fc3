# ruff: noqa: S608 — only constant SQL fragments are interpolated here; every value is a bound parameter.
"""The PostgreSQL fast path for JSONL and CSV exports: PostgreSQL computes each item's current
label (the rules of ``selectors.labels``, stated in SQL) and writes each row as a whole line
(``exports.lines``), in item order, straight from the indexes, so the first rows leave at once
and memory stays flat. Lines come through a server-side cursor in batches: Python only joins
them (a COPY sends a message per row, and reading a million messages cost more than writing
them). Writing the lines is most of the export's CPU, on PostgreSQL's side: two connections, on
one snapshot, read alternate blocks of ``BLOCK_IDS`` item ids at once, and Python merges their
batches back into item order (``_merged``), so two backends share the work.

Rows, filters and splits equal the reference path (``rows.export_rows``, used for Parquet, COCO,
Label Studio, ``include=answers``, slice stratification and other databases); the model-based
test in tests/consistency/test_labels_model.py holds them equal. Splits are assigned as the
reference does it: over every listed row in item order, stratified by the label's JSON text (the
stratum), the i-th row of a stratum takes the i-th entry of the split sequence rotated by the
stratum's offset; only rows that pass the filters are written. With a split PostgreSQL sends
each listed row's stratum and its line in two parts, around the split, and Python assigns the
splits a batch at a time (``splits.BatchSplitAssigner``): running counts per stratum in SQL (a
window) cost PostgreSQL, the busier side, a quarter more time, and needed the strata before the
query (a pass over the run's results before the first row). The fast path serves categorical
projects, whose labels are class names.
"""

import json
import logging
from bisect import bisect_left
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from itertools import compress
from operator import itemgetter

import numpy as np
import psycopg
import psycopg.sql
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import ServerCursor
from psycopg.types.string import ByteaBinaryLoader

from consistency.exports import lines
from consistency.exports.formats import CSV_COLUMNS
from consistency.exports.params import ExportParams
from consistency.exports.rows import stratum_of
from consistency.exports.splits import BatchSplitAssigner
from consistency.exports.sql import rows_sql
from consistency.selectors.labels import LabelContext
from labeling.models import LabelKind, Project

logger = logging.getLogger(__name__)

CATEGORICAL = {LabelKind.CLASSES, LabelKind.RATING}
FETCH_ROWS = 10_000
FIRST_FETCH_ROWS = 1_000
# Two connections read alternate blocks of this many item ids, so two PostgreSQL backends
# compute the lines at once (the query's CPU, most of the export's, halves on each).
BLOCK_IDS = 5_000


def fast_path_applies(*, project: Project, params: ExportParams, using: str = DEFAULT_DB_ALIAS) -> bool:
    applies = (
        connections[using].vendor == "postgresql"
        and params.format in ("jsonl", "csv")
        and project.label_kind in CATEGORICAL
        and not params.include_answers
        and not params.stratify_by
        and not params.include_quality  # the reference path writes the extra column
    )
    return applies


def _line(params: ExportParams, args: dict) -> tuple[str, str]:
    """SQL for a line's text before its split's value and after it (with the line's end)."""
    if params.format == "jsonl":
        args["version_tail"] = f',"schema_version":{args["version"]},"split":'
        args["m_json"] = json.dumps(args["m"], ensure_ascii=False)
        # The label's JSON text is the stratum's, computed once a row (``sql.rows_sql``).
        label = "s.stratum" if params.split else "coalesce(s.label::text, 'null')"
        return lines.jsonl_line(version_tail="%(version_tail)s", label=label), lines.status_tail()
    args["version_text"] = str(args["version"])
    return lines.csv_line(), "''"


def _query(params: ExportParams, rows: str, args: dict, *, block: bool = False) -> str:
    """Two levels: the rows (``rows_sql``), with the CSV cells a line reads more than once; then
    the lines of the kept rows. With a split, every listed row (each one advances its stratum),
    as its stratum and, when kept, its line before the split and (JSONL) after it. ``block``:
    each row's block of item ids last (``rows_sql(half=…)``, ``_merged``)."""
    texts_sql = lines.CSV_TEXTS if params.format == "csv" else {}
    inner = "".join(f", {sql} AS {name}" for name, sql in texts_sql.items())
    head, tail = _line(params, args)
    if params.split is None:
        no_split = "'null'" if params.format == "jsonl" else "''"
        columns, where = f"{head} || {no_split} || {tail}", "WHERE s.keep"
    elif params.format == "jsonl":
        columns = f"s.stratum, CASE WHEN s.keep THEN {head} END, CASE WHEN s.keep THEN {tail} || chr(10) END"
        where = ""
    else:
        columns, where = f"s.stratum, CASE WHEN s.keep THEN {head} END", ""
    if block:
        columns += ", s.item_id / %(block)s"
    # Without values to compute once, the middle level would only copy each row.
    middle = f"(SELECT s.*{inner} FROM ({rows}) s ORDER BY s.item_id)" if inner else f"({rows})"
    return f"""
        SELECT {columns}
        FROM {middle} s
        {where}
    """


def fast_stream(*, project: Project, ctx: LabelContext, params: ExportParams) -> Iterator[bytes]:
    splits = _Splits(params) if params.split else None
    if params.format == "csv":
        yield (",".join(CSV_COLUMNS) + "\n").encode()
    # One transaction: SET LOCAL dies with it, so behind PgBouncer (transaction pooling) the
    # settings never leak to another client's server connection.
    connection = connections[ctx.db]  # the primary, or the replica the export chose
    # Two connections share a snapshot only from a transaction of the export's own: inside a
    # caller's (tests, a job that wrote first) the rows are read on one, which sees its writes.
    halves = not connection.in_atomic_block
    with transaction.atomic(using=ctx.db), connection.cursor() as cursor:
        if halves:  # the snapshot of the transaction's first query, shared by both connections
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(_SETTINGS)
        with _other_connection(connection, cursor) if halves else nullcontext() as other:
            if other is None:
                rows, args = rows_sql(project, ctx, params)
                batches = _fetched(
                    connection.connection, cursor.cursor.mogrify(_query(params, rows, args), args)
                )
            else:
                queries = []
                for parity in (0, 1):
                    rows, args = rows_sql(project, ctx, params, half=(BLOCK_IDS, parity))
                    queries.append(cursor.cursor.mogrify(_query(params, rows, args, block=True), args))
                batches = _merged(_fetched(connection.connection, queries[0]), _fetched(other, queries[1]))
            try:
                for batch in batches:
                    yield _lines(batch) if splits is None else splits.lines(batch)
            finally:
                batches.close()  # the cursors close before their connections


# Stream in item order straight from the indexes: no hash table to build before row one. No JIT:
# compiling this query's expressions took 1.9 s before the first row (1M items). work_mem: a
# FETCH holds its rows in a tuplestore before sending them, and 10,000 rows (4 MB) past the 4 MB
# default spilled every batch to a temporary file (400 MB written and read again at 1M items).
_SETTINGS = "SET LOCAL enable_hashjoin = off; SET LOCAL jit = off; SET LOCAL work_mem = '32MB'"


@contextmanager
def _other_connection(connection, cursor) -> Iterator[psycopg.Connection | None]:
    """A second connection to the export's database, in a transaction on the snapshot of
    ``cursor``'s (exported before connecting): both halves read the same committed state. None
    when it cannot connect (the server's connection limit): the rows are then read on one."""
    cursor.execute("SELECT pg_export_snapshot()")
    snapshot = cursor.fetchone()[0]
    try:
        other = psycopg.connect(**connection.get_connection_params())
    except psycopg.OperationalError:
        logger.warning("export: no second connection, the rows are read on one", exc_info=True)
        yield None
        return
    try:
        other.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        other.execute(psycopg.sql.SQL("SET TRANSACTION SNAPSHOT {}").format(snapshot))
        other.execute(_SETTINGS)
        yield other
    finally:
        other.close()  # its transaction only read: closing rolls it back


def _fetched(conn: psycopg.Connection, sql: bytes) -> Generator[list[tuple], None, None]:
    """The query's rows through a server-side cursor, a batch at a time."""
    with conn.cursor(name="concord_export", binary=True) as batches:
        # Text in binary format is its UTF-8 bytes, which psycopg's C bytea loader hands over
        # as they come: no Python call per value, no decoding 380 MB to str to encode it again.
        batches.adapters.register_loader("text", ByteaBinaryLoader)
        batches.execute(sql)
        yield from _prefetched(batches)


def _prefetched(batches: ServerCursor) -> Iterator[list[tuple]]:
    """The cursor's batches, the next one fetched on a thread while the caller writes this one:
    a FETCH waits for PostgreSQL to compute its rows, and fetching in turn with writing left
    PostgreSQL idle while Python wrote, and Python idle while PostgreSQL computed (the wait
    releases the GIL; the thread is the only one using the connection meanwhile)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-fetch") as pool:
        # A small first batch: the first rows leave before PostgreSQL has computed 10,000.
        pending = pool.submit(batches.fetchmany, min(FIRST_FETCH_ROWS, FETCH_ROWS))
        try:
            while batch := pending.result():
                pending = pool.submit(batches.fetchmany, FETCH_ROWS)
                yield batch
        finally:
            pending.result()  # a closed download: the fetch in flight ends before the cursor closes


class _Half:
    """One half's current batch, its rows' blocks (the last column) and the next row's place."""

    def __init__(self, batches: Generator[list[tuple], None, None]):
        self.batches = batches
        self.batch: list[tuple] = []
        self.blocks: list[int] = []
        self.position = 0
        self.advance()

    def advance(self) -> None:
        self.batch = next(self.batches, [])
        self.blocks = list(map(itemgetter(-1), self.batch))
        self.position = 0

    @property
    def block(self) -> int:
        return self.blocks[self.position]


def _merged(*batches: Generator[list[tuple], None, None]) -> Generator[list[tuple], None, None]:
    """The rows of the halves (alternate blocks of item ids, each row's block number last) in
    item order: runs of rows, each from the half whose next row has the lowest block, up to the
    next block of another half. Each half fetches its next batch meanwhile, so the PostgreSQL
    backends compute at once; memory holds two batches a half."""
    try:
        halves = [_Half(b) for b in batches]
        while live := [half for half in halves if half.batch]:
            half = min(live, key=lambda h: h.block)
            others = [h.block for h in live if h is not half]
            end = bisect_left(half.blocks, min(others), half.position) if others else len(half.batch)
            yield half.batch[half.position : end]
            half.position = end
            if end == len(half.batch):
                half.advance()
    finally:
        for b in batches:
            b.close()


def _lines(batch: list[tuple]) -> bytes:
    return b"\n".join(list(map(itemgetter(0), batch))) + b"\n"


class _Strata(dict):
    """Stratum index by the stratum's bytes as PostgreSQL writes them: a new stratum is added to
    the assigner once it is checked to be the reference path's stratum text."""

    def __init__(self, assigner: BatchSplitAssigner):
        super().__init__()
        self.assigner = assigner

    def __missing__(self, raw: bytes) -> int:
        text = raw.decode()
        if stratum_of(json.loads(text)) != text:
            raise RuntimeError(f"An export row's label {text!r} is written unlike the reference path's.")
        self[raw] = index = self.assigner.stratum_index(text)
        return index


class _Splits:
    """Each batch's lines with their splits: every listed row advances its stratum, the kept
    rows (those with a line) are written."""

    def __init__(self, params: ExportParams):
        assert params.split is not None
        self.assigner = BatchSplitAssigner(params.split, params.seed)
        self.strata = _Strata(self.assigner)
        jsonl = params.format == "jsonl"
        names = [json.dumps(name) if jsonl else name + "\n" for name in params.split.names]
        # A JSONL line's tail ends it; a CSV line ends with its split.
        self.names = np.array([name.encode() for name in names], dtype=object)
        self.width = 3 if jsonl else 2  # stratum, line before the split (, after it); a block may follow

    def lines(self, batch: list[tuple]) -> bytes:
        # Columns by itemgetter, not zip(*batch), which took 12 ms a batch in the export's process
        # (py-spy: a quarter of its time there), though 1 ms in a bare interpreter.
        picks = self.assigner.assign(list(map(self.strata.__getitem__, map(itemgetter(0), batch))))
        columns = [list(map(itemgetter(k), batch)) for k in range(1, self.width)]
        if None in columns[0]:  # rows the filters drop: counted above, not written
            kept = np.fromiter((head is not None for head in columns[0]), dtype=bool, count=len(batch))
            columns = [list(compress(parts, kept)) for parts in columns]
            picks = picks[kept]
        parts = [columns[0], self.names[picks].tolist(), *columns[1:]]
        out: list[bytes] = [b""] * (len(parts) * len(parts[0]))
        for k, part in enumerate(parts):
            out[k :: len(parts)] = part
        return b"".join(out)
