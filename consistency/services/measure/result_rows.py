"""A run's per-item result rows as PostgreSQL gets them (``publish._partition_load``): joined to
their distinct tails in one INSERT when they repeat a few patterns, else as COPY's CSV."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

RESULT_COLUMNS = (
    "item_id",
    "n_answers",
    "n_skipped",
    "consensus",
    "method",
    "by_method",
    "confidence",
    "agreement",
    "disagreement",
    "is_tie",
    "label_quality",
    "first_class",
    "second_class",
)
JSON_COLUMNS = ("consensus", "by_method")
TEXT_COLUMNS = ("method", "first_class", "second_class")
DEFAULTS = {"n_skipped": 0, "by_method": {}, "disagreement": 0.0, "is_tie": False}
TAIL_COLUMNS = tuple(c for c in RESULT_COLUMNS if c != "item_id")
# The SQL type of each tail column, for the arrays the tails travel in.
TAIL_TYPES = {
    "n_answers": "int2",
    "n_skipped": "int2",
    "consensus": "jsonb",
    "method": "text",
    "by_method": "jsonb",
    "confidence": "float8",
    "agreement": "float8",
    "disagreement": "float8",
    "is_tie": "bool",
    "label_quality": "float8",
    "first_class": "text",
    "second_class": "text",
}
# Up to this many distinct tails the rows are inserted joined to their tails (below); past it
# (per-item confidences, say) each row's JSON is its own and COPY parses it as cheaply.
MAX_JOINED_TAILS = 10_000


@dataclass
class _Tails:
    """A run's rows apart from the item id repeat a few patterns (the same answers give the
    same consensus, confidence and agreement): each row's pattern (tail) as a number, and each
    column's codes, from which a tail's values are read. No Python object per tail: a run whose
    label quality varies by item has about as many tails as items."""

    columns: list[tuple[np.ndarray, Any]]  # per tail column: codes per row (-1: NULL), its distinct values
    first_row: np.ndarray  # per distinct tail, the first row that has it
    of_row: np.ndarray  # each row's tail (int32)

    def __len__(self) -> int:
        return len(self.first_row)

    def values(self) -> list[list]:
        """Per tail column, the value of each distinct tail (None: NULL); for few tails only."""
        return [
            [_sql_value(uniques[code]) if code >= 0 else None for code in codes[self.first_row].tolist()]
            for codes, uniques in self.columns
        ]


def tails_of(results: pd.DataFrame) -> _Tails | None:
    if results.empty:
        return None
    key = np.zeros(len(results), dtype=np.int64)
    columns = []  # (codes per row, values per code; code -1 is NULL)
    for name in TAIL_COLUMNS:  # one key per distinct tail: mixed radix over the columns' codes
        column_codes, uniques = pd.factorize(results[name], use_na_sentinel=True)
        columns.append((column_codes.astype(np.int32), uniques))
        radix = len(uniques) + 1
        if key.max(initial=0) >= (1 << 62) // radix:  # would overflow: renumber densely first
            key = pd.factorize(key)[0].astype(np.int64)
        key = key * radix + (column_codes + 1)
    _, first_row, inverse = np.unique(key, return_index=True, return_inverse=True)
    del key
    return _Tails(columns, first_row, inverse.astype(np.int32).reshape(-1))


def tails_insert(
    cursor, table: str, run_id: int, first_id: int, item_ids: list[np.ndarray], tails: _Tails
) -> None:
    """The rows as an INSERT of (item id, tail number) pairs joined to the distinct tails.
    ``item_ids``: the rows' item ids in a one-element list this empties.

    ``COPY`` parsed ``by_method``'s JSON on every row, about half of its time; this parses each
    distinct tail once and Python formats no CSV (1M results: the load's PostgreSQL CPU 11.0-13.3
    s before, 7.3-9.4 s after, docs/benchmarks.md). Ids follow the results' order, as with COPY:
    the join keeps the order of the pairs (a hash on the small side), and merge joins, which
    would sort them, are off."""
    tail_columns = ", ".join(TAIL_COLUMNS)
    picked = ", ".join(f"t.{name}" for name in TAIL_COLUMNS)
    arrays = ", ".join(f"%s::{TAIL_TYPES[name]}[]" for name in TAIL_COLUMNS)
    values = tails.values()
    ids = _Int8Array(item_ids.pop())  # the only hold on them: the dumper lets them go when sent
    tail_numbers = _Int8Array(tails.of_row.astype(np.int64) + 1)  # ORDINALITY counts from 1
    # Each column's codes per row (four bytes per row and column) served only to find the tails'
    # values: they go now, not after the INSERT's seconds, while the report's sections run.
    tails.columns.clear()
    # Server-side binding (Django's cursor binds on the client), for the binary arrays.
    with psycopg.Cursor(cursor.cursor.connection) as binding:
        binding.adapters.register_dumper(_Int8Array, _Int8ArrayDumper)
        # For this statement only (the transaction goes on: the index builds, the publish):
        # the pairs (1M: 64 MB) stay in memory instead of a temporary file.
        binding.execute("SELECT current_setting('enable_mergejoin'), current_setting('work_mem')")
        before = binding.fetchone()
        binding.execute(
            "SELECT set_config('enable_mergejoin', 'off', true), set_config('work_mem', '128MB', true)"
        )
        binding.execute(
            f"INSERT INTO {table} (id, run_id, item_id, {tail_columns}) "  # noqa: S608 (names only)
            f"SELECT %s::bigint - 1 + r.n, %s::bigint, r.item_id, {picked} "
            "FROM unnest(%b, %b) WITH ORDINALITY AS r (item_id, tail, n) "
            f"JOIN unnest({arrays}) WITH ORDINALITY AS t ({tail_columns}, tail) ON t.tail = r.tail",
            [first_id, run_id, ids, tail_numbers, *values],
        )
        binding.execute(
            "SELECT set_config('enable_mergejoin', %s, true), set_config('work_mem', %s, true)", before
        )


class _Int8Array:
    """Whole numbers sent as a bigint[] in PostgreSQL's binary format, built by numpy: psycopg
    dumps a list an element at a time (1.5-2 s for a million against 0.1 s)."""

    def __init__(self, values: np.ndarray) -> None:
        self.values = values


class _Int8ArrayDumper(Dumper):
    format = Format.BINARY
    oid = 1016  # bigint[]

    def dump(self, obj: _Int8Array) -> bytes | bytearray:
        values = obj.values
        # psycopg holds the parameters until the statement ends (seconds at 2M rows, while the
        # report's sections run): the array goes now, and the message is built in place, one
        # buffer instead of three copies.
        obj.values = np.zeros(0, dtype=np.int64)
        if len(values) == 0:
            return np.array([0, 0, 20], dtype=">i4").tobytes()  # no dimensions; bigint
        message = bytearray(20 + 12 * len(values))
        # One dimension, no NULLs, bigint elements; its length, counted from 1.
        message[:20] = np.array([1, 0, 20, len(values), 1], dtype=">i4").tobytes()
        cells = np.frombuffer(message, dtype=[("size", ">i4"), ("value", ">i8")], offset=20)
        cells["size"] = 8
        cells["value"] = values
        del cells  # no view left on the message
        return message


CSV_CHUNK_ROWS = 100_000


def csv_chunks(run_id: int, first_id: int, item_ids: np.ndarray, tails: _Tails):
    """CSV lines for COPY (runs with many distinct tails) of the rows of ``item_ids`` and their
    ``tails``, each distinct tail of a chunk formatted once and the chunk's lines gathered from
    them."""
    middle = f",{run_id},"
    # Chunk by chunk: the lines (a Python text each) of one chunk at a time, and the tails of
    # that chunk alone, each field formatted once per distinct value in the chunk. The load runs
    # beside the report's own peak (StagedResults): texts of every distinct value and tail of
    # the whole run (millions when the confidences vary by item) took hundreds of MB at once.
    for start in range(0, len(item_ids), CSV_CHUNK_ROWS):
        stop = min(start + CSV_CHUNK_ROWS, len(item_ids))
        tail_codes, local = np.unique(tails.of_row[start:stop], return_inverse=True)
        rows = tails.first_row[tail_codes]  # the first row of each of the chunk's distinct tails
        texts = np.full(len(rows), "", dtype=object)
        for codes, uniques in tails.columns:
            used, at = np.unique(codes[rows], return_inverse=True)
            fields = [_csv_field(uniques[code]) if code >= 0 else "\\N" for code in used.tolist()]
            texts = texts + "," + np.asarray(fields, dtype=object)[at.reshape(-1)]
        texts = texts + "\n"
        ids = np.arange(first_id + start, first_id + stop).astype(str).astype(object)
        items = item_ids[start:stop].astype(str).astype(object)
        lines = ids + middle + items + texts[local.reshape(-1)]
        yield "".join(lines.tolist()).encode()


def _sql_value(value):
    """A result's value as the database gets it: NULL for None and NaN, Python scalars."""
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, int | np.integer):
        return int(value)
    return str(value)


def _csv_field(value) -> str:
    """One CSV field as COPY reads it: NULL is the unquoted \\N, strings always quoted."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "\\N"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        return repr(float(value))  # the shortest repr, as json.dumps and psycopg wrote floats
    if isinstance(value, int | np.integer):
        return str(int(value))
    text = str(value)
    return '"' + text.replace('"', '""') + '"'
