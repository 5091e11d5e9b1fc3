# ruff: noqa: S608 — only constant SQL fragments are interpolated here; every value is a bound parameter.
"""The PostgreSQL fast path for JSONL and CSV exports: PostgreSQL writes each row's text itself
(``COPY (SELECT …) TO STDOUT``), in item order, straight from the indexes, so the first rows leave
at once and memory stays flat.

Rows, filters and splits equal the reference path (``rows.export_rows``, used for Parquet, COCO,
Label Studio, ``include=answers``, slice stratification and other databases). Splits are assigned
here while the rows stream, exactly as the reference does it: each row carries its stratum key
(an md5 of the consensus) and whether it passes the filters; every row advances its stratum's
position, and only kept rows are written. The fast path serves categorical projects, whose
consensus is a class name.
"""

import hashlib
import json
from collections.abc import Iterator

from django.db import connection

from consistency.exports.formats import CSV_COLUMNS
from consistency.exports.params import BORDERLINE_NAMES, ExportParams
from consistency.exports.splits import SplitAssigner
from consistency.models import AgreementRun
from labeling.models import LabelKind, Project

CATEGORICAL = {LabelKind.CLASSES, LabelKind.RATING}
FLUSH_BYTES = 1 << 20


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


def _rows_sql(project: Project, run: AgreementRun, params: ExportParams) -> tuple[str, dict]:
    method = params.consensus or run.params.get("consensus") or project.consensus_method
    switch = "r.method <> 'gold' AND r.method <> %(m)s AND r.by_method ? %(m)s"
    args: dict = {"m": method, "run": run.id, "version": run.schema_version.number}
    keep = ["true"]
    if params.min_agreement is not None:
        keep.append("coalesce(b.agreement >= %(min_agreement)s, false)")
        args["min_agreement"] = params.min_agreement
    if params.min_confidence is not None:
        keep.append("coalesce(b.confidence >= %(min_confidence)s, false)")
        args["min_confidence"] = params.min_confidence
    if params.min_answers is not None:
        keep.append("b.n_answers >= %(min_answers)s")
        args["min_answers"] = params.min_answers
    if params.min_quality is not None:
        keep.append("coalesce(b.label_quality >= %(min_quality)s, false)")
        args["min_quality"] = params.min_quality
    if "unresolved" in params.exclude:
        keep.append("b.consensus IS NOT NULL AND b.consensus <> 'null'::jsonb")
    if "ties" in params.exclude:
        keep.append("NOT b.is_tie")
    if "borderline" in params.exclude:
        keep.append("lower(trim(coalesce(b.consensus #>> '{}', ''))) <> ALL(%(borderline)s::text[])")
        args["borderline"] = sorted(BORDERLINE_NAMES)
    for index, (field, value) in enumerate(params.slices):
        keep.append(f"coalesce(b.metadata ->> %(sf{index})s = %(sv{index})s, false)")
        args[f"sf{index}"], args[f"sv{index}"] = field, value
    sql = f"""
        WITH b AS (
            SELECT r.item_id, i.external_id, i.data, nullif(i.media, '') AS media, i.metadata, i.is_gold,
                   CASE WHEN {switch} THEN r.by_method -> %(m)s -> 'value' ELSE r.consensus END AS consensus,
                   CASE WHEN {switch} THEN %(m)s ELSE r.method END AS method,
                   CASE WHEN {switch} THEN (r.by_method -> %(m)s ->> 'confidence')::float
                        ELSE r.confidence END AS confidence,
                   r.agreement, r.n_answers, r.is_tie, r.label_quality
            FROM consistency_itemresult r JOIN labeling_item i ON i.id = r.item_id
            WHERE r.run_id = %(run)s
        )
        SELECT md5(coalesce(b.consensus::text, 'null')) AS stratum, ({" AND ".join(keep)}) AS keep, b.*
        FROM b ORDER BY b.item_id
    """
    return sql, args


def _escape(column: str) -> str:
    """Formula-looking cells get a leading apostrophe, as the reference CSV writer does."""
    return f"CASE WHEN {column} ~ '^[=+@\\t\\r-]' THEN '''' || {column} ELSE {column} END"


def _copy_statement(params: ExportParams, rows_sql: str) -> str:
    if params.format == "jsonl":
        # JSON text by concatenation: about twice as fast as json_build_object here, and the
        # same JSON (to_json quotes text; jsonb and numbers print as JSON already).
        query = f"""
            SELECT s.stratum, s.keep,
                '{{"agreement":' || coalesce(s.agreement::text, 'null')
                || ',"confidence":' || coalesce(s.confidence::text, 'null')
                || ',"consensus":' || coalesce(s.consensus::text, 'null')
                || ',"data":' || s.data::text
                || ',"external_id":' || to_json(s.external_id)::text
                || ',"is_gold":' || s.is_gold::text
                || ',"is_tie":' || s.is_tie::text
                || ',"item_id":' || s.item_id
                || ',"media":' || coalesce(to_json(s.media)::text, 'null')
                || ',"metadata":' || s.metadata::text
                || ',"method":' || to_json(s.method)::text
                || ',"n_answers":' || s.n_answers
                || ',"schema_version":' || %(version)s || '}}'
            FROM ({rows_sql}) s
        """
        # CSV mode with quote and delimiter bytes that JSON text never contains: PostgreSQL writes
        # the JSON verbatim (text mode would escape the backslashes inside JSON strings).
        return f"COPY ({query}) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
    consensus_text = (
        "CASE WHEN jsonb_typeof(s.consensus) = 'string' THEN s.consensus #>> '{}' ELSE s.consensus::text END"
    )
    query = f"""
        SELECT s.stratum, CASE WHEN s.keep THEN 't' ELSE 'f' END, s.item_id, {_escape("s.external_id")},
               {_escape(consensus_text)}, s.method, s.confidence, s.agreement, s.n_answers,
               CASE WHEN s.is_gold THEN 'true' ELSE 'false' END,
               CASE WHEN s.is_tie THEN 'true' ELSE 'false' END,
               %(version)s, {_escape("s.media")}, {_escape("s.data::text")},
               {_escape("s.metadata::text")}, NULL
        FROM ({rows_sql}) s
    """
    return f"COPY ({query}) TO STDOUT WITH (FORMAT csv)"


def fast_stream(*, project: Project, run: AgreementRun, params: ExportParams) -> Iterator[bytes]:
    rows_sql, args = _rows_sql(project, run, params)
    copy = _copy_statement(params, rows_sql)
    assigner = SplitAssigner(params.split, params.seed) if params.split else None
    strata = _strata(run)
    jsonl = params.format == "jsonl"
    separator = b"\x02" if jsonl else b","
    if not jsonl:
        yield (",".join(CSV_COLUMNS) + "\n").encode()
    with connection.cursor() as cursor:
        # Stream in item order straight from the indexes: no hash table to build before row one.
        cursor.execute("SET enable_hashjoin = off")
        try:
            with cursor.cursor.copy(copy, args) as stream:
                out = bytearray()
                tail = b""
                for block in stream:
                    lines = (tail + bytes(block)).split(b"\n")
                    tail = lines.pop()
                    if not jsonl:  # JSON text never holds a raw newline; a CSV cell may
                        lines, unfinished = _whole_rows(lines)
                        tail = unfinished + tail
                    for line in lines:
                        key, keep, payload = line.split(separator, 2)
                        split = assigner.assign(strata[key]) if assigner else None
                        if keep != b"t":
                            continue
                        if jsonl:
                            out += payload[:-1] + (
                                b',"split":"%s"}\n' % split.encode() if split else b',"split":null}\n'
                            )
                        else:
                            out += payload + (b"," + split.encode() if split else b",") + b"\n"
                    if len(out) >= FLUSH_BYTES:
                        yield bytes(out)
                        out.clear()
                if out:
                    yield bytes(out)
        finally:
            cursor.execute("RESET enable_hashjoin")


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


def _strata(run: AgreementRun) -> dict[bytes, str]:
    """md5 of each consensus as PostgreSQL writes it → the stratum text the reference path uses."""
    from consistency.models import ItemResult

    values = set(run.schema_version.classes.values_list("name", flat=True)) | {None}
    values |= set(ItemResult.objects.filter(run=run).values_list("consensus", flat=True).distinct())
    out = {}
    for value in values:
        text = json.dumps(value, ensure_ascii=False)
        out[hashlib.md5(text.encode(), usedforsecurity=False).hexdigest().encode()] = text
    return out
