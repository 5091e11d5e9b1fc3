"""Record parsers: CSV, JSONL, Parquet and JSON lists, streamed row by row.

Each parser yields ``ParsedRow(line, external_id, data, metadata)`` and records every bad row
in a ``ParseReport`` with its line number and reason. Record pairs are first-class:
``left.*`` / ``right.*`` columns, or objects with ``left`` and ``right``, become
``{"left": {...}, "right": {...}}``.

Lines: for CSV the header is line 1 and each record counts as one line (a quoted cell that
spans several physical lines is still one record); for JSONL the physical line; for Parquet
and JSON lists the row's position, from 1.

Rows without an id (no ``external_id`` / ``id`` field) get the SHA-256 of their content as
``external_id``, like media files, so re-importing the same file stays idempotent.
"""

import csv
import hashlib
import io
import json
import math
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, TypeVar

from core.text import unsafe_text_reason

MAX_FIELD_CHARS = 100_000
MAX_ID_CHARS = 255
MAX_REPORTED_ERRORS = 1000
ID_COLUMNS = ("external_id", "id")
PAIR_SIDES = ("left", "right")
# In json.dumps' ASCII output a NUL or a surrogate can only appear as an escape.
_UNSAFE_ESCAPE = re.compile(r"\\u0000|\\ud[89a-f]")


@dataclass
class ParsedRow:
    line: int
    external_id: str
    data: dict
    metadata: dict
    data_json: str = ""  # the JSON text of data and metadata, made once while checking the row
    metadata_json: str = ""


@dataclass
class ParseReport:
    """Bad rows (line, reason) and ids seen twice in one import.

    ``exact`` (the default) keeps every id in a set and drops repeats as they come. Otherwise
    only an 8-byte hash per id is kept (flat memory for files of millions of rows) and nothing
    is dropped: the database keeps the first occurrence (``ON CONFLICT DO NOTHING`` in file
    order) and, when the hashes show repeats, names them (``repeats_possible``).
    """

    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    duplicates_in_file: list[str] = field(default_factory=list)
    duplicate_count: int = 0
    content_ids: int = 0
    exact: bool = True
    seen: set = field(default_factory=set)
    hashes: array = field(default_factory=lambda: array("q"))

    def error(self, line: int, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"line": line, "reason": reason})

    def first_time(self, external_id: str) -> bool:
        """False (and the id is reported) when the id already came earlier in this import."""
        if not self.exact:
            self.hashes.append(hash(external_id))
            return True
        if external_id in self.seen:
            self.duplicate_count += 1
            if len(self.duplicates_in_file) < MAX_REPORTED_ERRORS:
                self.duplicates_in_file.append(external_id)
            return False
        self.seen.add(external_id)
        return True

    def repeats_possible(self) -> bool:
        """Hash mode: whether two ids may be equal (exact answer from the database then)."""
        if self.exact or len(self.hashes) < 2:
            return False
        import numpy as np

        values = np.frombuffer(self.hashes, dtype=np.int64)
        return len(np.unique(values)) < len(values)

    def reasons(self) -> list[str]:
        listed = [f"line {e['line']}: {e['reason']}" for e in self.errors]
        if self.error_count > len(self.errors):
            listed.append(f"… and {self.error_count - len(self.errors)} more bad rows")
        return listed


class UnparseableFile(ValueError):
    """The file cannot be read at all (not the format it claims, wrong encoding…)."""


class QuoteCounter(io.BufferedIOBase):
    """A read-only file wrapper counting double quotes: an odd total means a quoted cell that
    never closes, which CSV readers otherwise silently turn into one giant cell. Closing it
    leaves ``raw`` open."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.quotes = 0

    @property
    def name(self) -> str:
        return getattr(self.raw, "name", "")

    def read(self, size: int | None = -1) -> bytes:
        chunk = self.raw.read(-1 if size is None else size)
        self.quotes += chunk.count(b'"')
        return chunk

    def read1(self, size: int | None = -1) -> bytes:
        return self.read(size)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    def check(self) -> None:
        if self.quotes % 2:
            raise UnparseableFile("a quoted cell is never closed (an odd number of double quotes)")


def flat_fields(data: dict) -> Iterator[tuple[str, object]]:
    for key, value in data.items():
        if type(value) is dict and key in PAIR_SIDES:
            prefix = key + "."
            for name, inner in value.items():
                yield prefix + name, inner
        else:
            yield key, value


def content_id(data: dict, metadata: dict) -> str:
    """The id of a row that has none: SHA-256 of its canonical JSON (same in every format)."""
    canonical = json.dumps(
        {"data": data, "metadata": metadata}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def split_pair(flat: dict) -> dict:
    """``left.name`` / ``right.name`` keys → {"left": {"name": …}, "right": {…}}; other keys stay."""
    if not any(k.startswith(("left.", "right.")) for k in flat):
        return flat
    out: dict = {"left": {}, "right": {}}
    for key, value in flat.items():
        side, dot, name = key.partition(".")
        if dot and side in PAIR_SIDES:
            out[side][name] = value
        else:
            out[key] = value
    return out


def _bad_text(value, depth: int = 0) -> str | None:
    """Why a value cannot be stored (NUL characters, non-finite numbers, huge text), or None."""
    if isinstance(value, str):
        if len(value) > MAX_FIELD_CHARS:
            return f"a field is longer than {MAX_FIELD_CHARS:,} characters"
        if reason := unsafe_text_reason(value):
            return f"a field contains {reason}"
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN and infinite numbers cannot be stored"
    if depth > 20:
        return "values are nested too deeply"
    if isinstance(value, dict):
        for key, inner in value.items():
            reason = _bad_text(key, depth + 1) or _bad_text(inner, depth + 1)
            if reason:
                return reason
    elif isinstance(value, list):
        for inner in value:
            reason = _bad_text(inner, depth + 1)
            if reason:
                return reason
    return None


def make_row(line: int, raw, metadata_columns: frozenset | set, report: ParseReport) -> ParsedRow | None:
    """One raw row (a dict from any format) → a ParsedRow, or None with the reason in the report."""
    if not isinstance(raw, dict):
        report.error(line, "each row must be an object with fields")
        return None
    if isinstance(raw.get("data"), dict):  # the REST shape {external_id, data, metadata}
        external_id = raw.get("external_id")
        data = split_pair(raw["data"])
        metadata = raw.get("metadata") or {}
        if not isinstance(metadata, dict):
            report.error(line, "metadata must be an object")
            return None
    else:
        external_id = next((raw[c] for c in ID_COLUMNS if raw.get(c) not in (None, "")), None)
        fields = {k: v for k, v in raw.items() if k not in ID_COLUMNS and k not in metadata_columns}
        data = split_pair(fields)
        metadata = {k: raw[k] for k in metadata_columns if raw.get(k) not in (None, "")}
    if not data:
        report.error(line, "no fields to label")
        return None
    try:
        data_json = json.dumps(data, allow_nan=False)
        metadata_json = json.dumps(metadata, allow_nan=False) if metadata else "{}"
    except ValueError:
        report.error(line, "NaN and infinite numbers cannot be stored")
        return None
    except (TypeError, RecursionError):
        report.error(line, "values must be JSON (text, numbers, lists, objects)")
        return None
    # The exact walk only when the JSON text hints at a problem (it rarely does).
    if (
        _UNSAFE_ESCAPE.search(data_json)
        or _UNSAFE_ESCAPE.search(metadata_json)
        or len(data_json) + len(metadata_json) > MAX_FIELD_CHARS
    ):
        reason = _bad_text(data) or _bad_text(metadata)
        if reason:
            report.error(line, reason)
            return None
    if external_id is None or (isinstance(external_id, str) and not external_id.strip()):
        if any(c in raw for c in ID_COLUMNS):
            report.error(line, "missing external_id")
            return None
        external_id = content_id(data, metadata)
        report.content_ids += 1
    elif isinstance(external_id, bool) or not isinstance(external_id, str | int):
        report.error(line, "external_id must be a string or an integer")
        return None
    external_id = str(external_id).strip()
    if len(external_id) > MAX_ID_CHARS:
        report.error(line, f"external_id longer than {MAX_ID_CHARS} characters")
        return None
    if reason := unsafe_text_reason(external_id):
        report.error(line, f"external_id contains {reason}")
        return None
    if not report.first_time(external_id):
        return None
    return ParsedRow(line, external_id, data, metadata, data_json, metadata_json)


_Header = TypeVar("_Header", bound=Sequence[str])


def header_check(header: _Header | None) -> _Header:
    if not header or len(set(header)) != len(header) or any(not h.strip() for h in header):
        raise UnparseableFile("the CSV needs a header row with unique, non-empty column names")
    if any(h.startswith(("left.", "right.")) for h in header) and any(h in PAIR_SIDES for h in header):
        raise UnparseableFile(
            "a file with left.* / right.* columns cannot also have a 'left' or 'right' column"
        )
    return header


def parse_csv(stream, metadata_columns: frozenset | set, report: ParseReport) -> Iterator[ParsedRow]:
    """The pure-Python CSV reader (SQLite, and the reference for the Arrow path on PostgreSQL)."""
    counter = QuoteCounter(stream)
    text = io.TextIOWrapper(counter, encoding="utf-8-sig", newline="")
    try:
        reader = csv.DictReader(text)
        fieldnames = header_check(reader.fieldnames)
        data_columns = [h for h in fieldnames if h not in ID_COLUMNS and h not in metadata_columns]
        if not data_columns:
            raise UnparseableFile("the file has no columns to label besides ids and metadata")
        for line, raw in enumerate(reader, start=2):
            if None in raw:
                report.error(line, "more cells than header columns")
                continue
            if any(v is None for v in raw.values()):
                report.error(line, "fewer cells than header columns")
                continue
            row = make_row(line, raw, metadata_columns, report)
            if row is not None:
                yield row
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UnparseableFile(f"not a readable UTF-8 CSV file ({exc})") from exc
    counter.check()


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON")


def parse_jsonl(stream, metadata_columns: frozenset | set, report: ParseReport) -> Iterator[ParsedRow]:
    loads = json.loads
    for line, raw_line in enumerate(stream, start=1):
        stripped = raw_line.strip()
        if not stripped:
            continue
        try:
            raw = loads(stripped, parse_constant=_no_constants)
        except UnicodeDecodeError:
            report.error(line, "not UTF-8 text")
            continue
        except ValueError as exc:  # JSONDecodeError is a ValueError
            report.error(line, f"invalid JSON ({getattr(exc, 'msg', exc)})")
            continue
        except RecursionError:
            report.error(line, "values are nested too deeply")
            continue
        row = make_row(line, raw, metadata_columns, report)
        if row is not None:
            yield row


def _plain(value):
    """Parquet cell → JSON-able value (dates as ISO text, bytes as text, NaN as null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if type(value).__name__ == "Decimal":
        return float(value)
    return value


def parse_parquet(source, metadata_columns: frozenset | set, report: ParseReport) -> Iterator[ParsedRow]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as exc:
        raise UnparseableFile(f"not a readable Parquet file ({exc})") from exc
    header_check(parquet.schema_arrow.names)
    line = 0
    try:
        for batch in parquet.iter_batches(batch_size=10_000):
            for raw in batch.to_pylist():
                line += 1
                row = make_row(line, {k: _plain(v) for k, v in raw.items()}, metadata_columns, report)
                if row is not None:
                    yield row
    except (pa.ArrowException, OSError) as exc:
        raise UnparseableFile(f"the Parquet file breaks off ({exc})") from exc


def load_json_list(source) -> list:
    """A whole JSON document that must be a list (JSON files are not streamed: prefer JSONL)."""
    try:
        items = json.load(source, parse_constant=_no_constants)
    except UnicodeDecodeError as exc:
        raise UnparseableFile("not UTF-8 text") from exc
    except ValueError as exc:
        raise UnparseableFile(f"not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise UnparseableFile("values are nested too deeply") from exc
    if not isinstance(items, list):
        raise UnparseableFile("a JSON file must hold a list of rows")
    return items


def parse_json_list(
    items: Iterable, metadata_columns: frozenset | set, report: ParseReport
) -> Iterator[ParsedRow]:
    for line, raw in enumerate(items, start=1):
        row = make_row(line, raw, metadata_columns, report)
        if row is not None:
            yield row


def record_kind(filename: str, head: bytes) -> str | None:
    """csv, jsonl, parquet or json, from the first bytes (Parquet's magic) and the name."""
    if head.startswith(b"PAR1"):
        return "parquet"
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json" or stripped.startswith(b"["):
        return "json" if stripped.startswith(b"[") else "jsonl"
    if stripped.startswith(b"{"):
        return "jsonl"
    if suffix in (".csv", ".txt", ""):
        return "csv"
    return None
