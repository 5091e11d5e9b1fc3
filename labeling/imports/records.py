"""Record parsers: CSV, JSONL, Parquet and JSON lists, streamed row by row.

Each parser yields ``ParsedRow(line, external_id, data, metadata)`` or records a ``RowError``
with the line number and reason. Record pairs are first-class: ``left.*`` / ``right.*`` columns,
or objects with ``left`` and ``right``, become ``{"left": {...}, "right": {...}}``.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

MAX_FIELD_CHARS = 100_000
MAX_ID_CHARS = 255
ID_COLUMNS = ("external_id", "id")


@dataclass
class ParsedRow:
    line: int
    external_id: str
    data: dict
    metadata: dict


@dataclass
class ParseReport:
    errors: list[dict] = field(default_factory=list)
    duplicates_in_file: list[str] = field(default_factory=list)
    seen: set = field(default_factory=set)

    def error(self, line: int, reason: str) -> None:
        if len(self.errors) < 1000:
            self.errors.append({"line": line, "reason": reason})
        elif len(self.errors) == 1000:
            self.errors.append({"line": line, "reason": "more errors not listed"})


class UnparseableFile(ValueError):
    """The file cannot be read at all (not the format it claims, wrong encoding…)."""


def _split_pair(flat: dict) -> dict:
    """``left.name`` / ``right.name`` keys → {"left": {"name": …}, "right": {…}}; other keys stay."""
    if not any(k.startswith(("left.", "right.")) for k in flat):
        return flat
    out: dict = {"left": {}, "right": {}}
    for key, value in flat.items():
        side, dot, name = key.partition(".")
        if dot and side in ("left", "right"):
            out[side][name] = value
        else:
            out[key] = value
    return out


def _row(
    line: int, raw: dict, metadata_columns: set[str], report: ParseReport, *, auto_id: bool
) -> ParsedRow | None:
    if not isinstance(raw, dict):
        report.error(line, "each row must be an object with fields")
        return None
    if "data" in raw and isinstance(raw.get("data"), dict):  # the REST shape {external_id, data, metadata}
        external_id = raw.get("external_id")
        data = _split_pair(raw["data"])
        metadata = raw.get("metadata") or {}
        if not isinstance(metadata, dict):
            report.error(line, "metadata must be an object")
            return None
    else:
        external_id = next((raw[c] for c in ID_COLUMNS if raw.get(c) not in (None, "")), None)
        fields = {k: v for k, v in raw.items() if k not in ID_COLUMNS and k not in metadata_columns}
        data = _split_pair(fields)
        metadata = {k: raw[k] for k in metadata_columns if k in raw and raw[k] not in (None, "")}
    if external_id in (None, ""):
        if not auto_id:
            report.error(line, "missing external_id")
            return None
        external_id = f"row-{line}"
    external_id = str(external_id).strip()
    if len(external_id) > MAX_ID_CHARS:
        report.error(line, f"external_id longer than {MAX_ID_CHARS} characters")
        return None
    if any(isinstance(v, str) and len(v) > MAX_FIELD_CHARS for v in _values(data)):
        report.error(line, f"a field is longer than {MAX_FIELD_CHARS} characters")
        return None
    if not data:
        report.error(line, "no fields to label")
        return None
    if external_id in report.seen:
        report.duplicates_in_file.append(external_id)
        return None
    report.seen.add(external_id)
    return ParsedRow(line, external_id, data, metadata)


def _values(data: dict) -> Iterator:
    for value in data.values():
        if isinstance(value, dict):
            yield from value.values()
        else:
            yield value


def parse_csv(
    stream: io.BufferedIOBase, metadata_columns: set[str], report: ParseReport
) -> Iterator[ParsedRow]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        reader = csv.DictReader(text)
        header = reader.fieldnames
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnparseableFile(f"not a readable UTF-8 CSV file ({exc})") from exc
    if not header or len(set(header)) != len(header) or any(not h for h in header):
        raise UnparseableFile("the CSV needs a header row with unique, non-empty column names")
    try:
        for line, raw in enumerate(reader, start=2):
            if None in raw:
                report.error(line, "more cells than header columns")
                continue
            row = _row(line, raw, metadata_columns, report, auto_id=False)
            if row is not None:
                yield row
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnparseableFile(f"the CSV breaks off: {exc}") from exc


def parse_jsonl(
    stream: io.BufferedIOBase, metadata_columns: set[str], report: ParseReport
) -> Iterator[ParsedRow]:
    for line, raw_line in enumerate(stream, start=1):
        stripped = raw_line.strip()
        if not stripped:
            continue
        try:
            raw = json.loads(stripped)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            report.error(line, f"invalid JSON ({exc.msg if hasattr(exc, 'msg') else exc})")
            continue
        row = _row(line, raw, metadata_columns, report, auto_id=False)
        if row is not None:
            yield row


def parse_parquet(path_or_file, metadata_columns: set[str], report: ParseReport) -> Iterator[ParsedRow]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path_or_file)
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnparseableFile(f"not a readable Parquet file ({exc})") from exc
    line = 0
    for batch in parquet.iter_batches(batch_size=10_000):
        for raw in batch.to_pylist():
            line += 1
            clean = {k: (v if not hasattr(v, "isoformat") else v.isoformat()) for k, v in raw.items()}
            row = _row(line, clean, metadata_columns, report, auto_id=False)
            if row is not None:
                yield row


def parse_json_list(items: Iterable, metadata_columns: set[str], report: ParseReport) -> Iterator[ParsedRow]:
    for line, raw in enumerate(items, start=1):
        row = _row(line, raw, metadata_columns, report, auto_id=False)
        if row is not None:
            yield row
