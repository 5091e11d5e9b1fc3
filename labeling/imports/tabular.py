"""CSV read by Apache Arrow in batches (the fast path on PostgreSQL).

Arrow parses the file in C++ a block at a time (memory stays flat), every cell as text exactly
as written (formula-looking cells included). Validation, duplicate detection and the
input-quality figures are computed per column with Arrow kernels; the caller receives clean
tables ``external_id, <data columns…>, <metadata columns…>`` ready for ``COPY``. The rules are
the same as the pure-Python reader in ``records.py`` (a test holds the two together).
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from labeling.imports.record_stats import RecordStats
from labeling.imports.records import (
    ID_COLUMNS,
    MAX_FIELD_CHARS,
    MAX_ID_CHARS,
    ParseReport,
    QuoteCounter,
    UnparseableFile,
    content_id,
    header_check,
    split_pair,
)

BLOCK_BYTES = 1 << 20
HEADER_PEEK_BYTES = 1 << 20


@dataclass
class CsvLayout:
    header: list[str]
    data_columns: list[str]
    metadata_columns: list[str]

    @property
    def is_pair(self) -> bool:
        return any(c.startswith(("left.", "right.")) for c in self.data_columns)


def read_header(stream) -> list[str]:
    """The header row (the stream is rewound); BOM and quoting handled like the data rows."""
    head = stream.read(HEADER_PEEK_BYTES)
    stream.seek(0)
    text = head.decode("utf-8-sig", errors="ignore")
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), None)
    except csv.Error as exc:
        raise UnparseableFile(f"the header row cannot be read ({exc})") from exc
    return header_check(header)


def csv_layout(header: list[str], metadata_columns: frozenset | set) -> CsvLayout:
    data = [h for h in header if h not in ID_COLUMNS and h not in metadata_columns]
    if not data:
        raise UnparseableFile("the file has no columns to label besides ids and metadata")
    return CsvLayout(header, data, [h for h in header if h in metadata_columns and h not in ID_COLUMNS])


def _any_mask(masks: list, n: int) -> pa.Array:
    out: pa.Array = pa.array(np.zeros(n, dtype=bool))
    for mask in masks:
        out = pc.or_(out, mask)
    return out


def _column_stats(stats: RecordStats, key: str, column: pa.Array) -> None:
    empty = pc.equal(column, "")
    missing = pc.sum(empty).as_py() or 0
    present = pc.filter(column, pc.invert(empty))
    seen = stats.distinct.get(key)
    distinct = pc.unique(present).to_pylist() if seen is None or len(seen) <= stats.MAX_DISTINCT else []
    low_high = None
    numeric = len(present) > 0 and stats.numeric.get(key, True)
    if numeric:
        try:
            numbers = pc.cast(present, pa.float64())
            if pc.all(pc.is_finite(numbers)).as_py():
                extremes = pc.min_max(numbers)
                low_high = (extremes["min"].as_py(), extremes["max"].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            low_high = None
    stats.add_column(key, missing=missing, distinct=distinct, low_high=low_high, has_values=len(present) > 0)


class _Lines:
    """Line numbers of kept rows, given the ragged rows Arrow skipped (header = line 1)."""

    def __init__(self):
        self.skipped: list[int] = []
        self.kept = 0

    def line(self, index_in_batch: int) -> int:
        line = self.kept + index_in_batch + 2
        for skipped in self.skipped:
            if skipped <= line:
                line += 1
            else:
                break
        return line


def csv_batches(stream, layout: CsvLayout, report: ParseReport, stats: RecordStats) -> Iterator[pa.Table]:
    """Clean tables (external_id, data…, metadata…); bad rows go to the report, duplicates are
    dropped (the first occurrence wins). Nothing more is yielded once a bad row is seen."""
    header = layout.header
    lines = _Lines()

    def ragged(row) -> str:
        number = row.number if row.number is not None and row.number > 0 else lines.kept + 2
        lines.skipped.append(number)
        lines.skipped.sort()
        side = "more" if row.actual_columns > row.expected_columns else "fewer"
        report.error(number, f"{side} cells than header columns")
        return "skip"

    counter = QuoteCounter(stream)
    try:
        reader = pacsv.open_csv(
            counter,
            read_options=pacsv.ReadOptions(
                column_names=header, skip_rows=1, block_size=BLOCK_BYTES, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=ragged),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in header}, strings_can_be_null=False
            ),
        )
        for batch in reader:
            table = _clean(batch, layout, report, stats, lines)
            lines.kept += batch.num_rows
            if table is not None and not report.error_count and table.num_rows:
                yield table
    except pa.ArrowInvalid as exc:
        raise UnparseableFile(f"not a readable UTF-8 CSV file ({exc})") from exc
    counter.check()


def _ids(batch: pa.RecordBatch, layout: CsvLayout, report: ParseReport) -> pa.Array:
    names = batch.schema.names
    if "external_id" in names:
        ids = pc.utf8_trim_whitespace(batch.column("external_id"))
        if "id" in names:
            ids = pc.if_else(pc.equal(ids, ""), pc.utf8_trim_whitespace(batch.column("id")), ids)
        return ids
    if "id" in names:
        return pc.utf8_trim_whitespace(batch.column("id"))
    # No id column: the content hash, computed from the same dicts as the Python reader builds.
    data_rows = batch.select(layout.data_columns).to_pylist()
    meta_rows = batch.select(layout.metadata_columns).to_pylist() if layout.metadata_columns else None
    out = []
    for index, data in enumerate(data_rows):
        metadata = {k: v for k, v in meta_rows[index].items() if v != ""} if meta_rows else {}
        out.append(content_id(split_pair(data), metadata))
    report.content_ids += len(out)
    return pa.array(out, pa.string())


def _clean(batch, layout: CsvLayout, report: ParseReport, stats: RecordStats, lines: _Lines):
    n = batch.num_rows
    if not n:
        return None
    has_id_column = any(c in layout.header for c in ID_COLUMNS)
    ids = _ids(batch, layout, report)
    checks: list[tuple[str, pa.Array]] = []
    data_and_meta = [batch.column(c) for c in layout.data_columns + layout.metadata_columns]
    too_long = _any_mask([pc.greater(pc.utf8_length(c), MAX_FIELD_CHARS) for c in data_and_meta], n)
    checks.append((f"a field is longer than {MAX_FIELD_CHARS:,} characters", too_long))
    nul = _any_mask([pc.match_substring(c, "\x00") for c in data_and_meta], n)
    checks.append(("a field contains a NUL character", nul))
    if has_id_column:
        checks.append(("missing external_id", pc.equal(ids, "")))
    checks.append(
        (f"external_id longer than {MAX_ID_CHARS} characters", pc.greater(pc.utf8_length(ids), MAX_ID_CHARS))
    )
    checks.append(("external_id contains a NUL character", pc.match_substring(ids, "\x00")))
    bad = _any_mask([mask for _, mask in checks], n)
    bad_np = bad.to_numpy(zero_copy_only=False)
    if bad_np.any():
        masks = [(reason, mask.to_numpy(zero_copy_only=False)) for reason, mask in checks]
        for flagged in np.flatnonzero(bad_np):
            reason = next(r for r, m in masks if m[flagged])
            report.error(lines.line(int(flagged)), reason)
    keep = []
    first_time = report.first_time
    for index, external_id in enumerate(ids.to_pylist()):
        keep.append(not bad_np[index] and first_time(external_id))
    if report.error_count:
        return None
    table = pa.Table.from_arrays(
        [ids, *data_and_meta], names=["external_id", *layout.data_columns, *layout.metadata_columns]
    )
    if not all(keep):
        table = table.filter(pa.array(keep))
    stats.rows += table.num_rows
    for name in layout.data_columns:
        _column_stats(stats, name, table.column(name).combine_chunks())
    return table


def table_to_copy_csv(table: pa.Table) -> bytes:
    """The table as CSV for PostgreSQL's ``COPY … (FORMAT csv)``: every value quoted, so an empty
    cell is an empty string, never NULL."""
    out = io.BytesIO()
    pacsv.write_csv(
        table, out, write_options=pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    )
    return out.getvalue()
