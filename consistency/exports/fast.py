# ruff: noqa: S608 — only constant SQL fragments are interpolated here; every value is a bound parameter.
"""The PostgreSQL fast path for JSONL and CSV exports: PostgreSQL writes the rows itself
(``COPY (SELECT …) TO STDOUT``) and the response streams its output.

It produces the same rows, splits and filters as ``rows.export_rows`` (the reference path,
used for Parquet, COCO, Label Studio, ``include=answers``, slice stratification and other
databases): splits use the same sequence and per-stratum offsets, with each item's position
in its stratum computed by a window function. It serves categorical projects, whose
consensus is a class name, so the stratum text matches the reference path exactly.
"""

import json
from collections.abc import Iterator

from django.db import connection

from consistency.exports.params import BORDERLINE_NAMES, ExportParams
from consistency.exports.splits import stratum_offset, weighted_sequence
from consistency.models import AgreementRun, ItemResult
from labeling.models import LabelKind, Project

CATEGORICAL = {LabelKind.CLASSES, LabelKind.RATING}


def fast_path_applies(*, project: Project, params: ExportParams) -> bool:
    return (
        connection.vendor == "postgresql"
        and params.format in ("jsonl", "csv")
        and project.label_kind in CATEGORICAL
        and not params.include_answers
        and not params.stratify_by
    )


def _select(project: Project, run: AgreementRun, params: ExportParams) -> tuple[str, list]:
    method = params.consensus or run.params.get("consensus") or project.consensus_method
    switch = "r.method <> 'gold' AND r.method <> %(m)s AND r.by_method ? %(m)s"
    consensus = f"CASE WHEN {switch} THEN r.by_method -> %(m)s -> 'value' ELSE r.consensus END"
    confidence = (
        f"CASE WHEN {switch} THEN (r.by_method -> %(m)s ->> 'confidence')::float ELSE r.confidence END"
    )
    chosen_method = f"CASE WHEN {switch} THEN %(m)s ELSE r.method END"
    args: dict = {"m": method, "run": run.id, "version": run.schema_version.number}
    split_expr = "NULL::text"
    if params.split:
        sequence = weighted_sequence(params.split)
        args["labels"] = [params.split.names[i] for i in sequence]
        args["period"] = params.split.period
        strata = [
            json.dumps(value, ensure_ascii=False)
            for value in ItemResult.objects.filter(run=run).values_list("consensus", flat=True).distinct()
        ]
        offsets = {s: stratum_offset(params.seed, s, params.split.period) for s in strata}
        args["strata"] = list(offsets)
        args["offsets"] = list(offsets.values())
        split_expr = (
            "(%(labels)s::text[])[((b.pos + coalesce((%(offsets)s::int[])[array_position(%(strata)s::text[], "
            "b.stratum)], 0)) %% %(period)s) + 1]"
        )
    where = []
    if params.min_agreement is not None:
        where.append("b.agreement >= %(min_agreement)s")
        args["min_agreement"] = params.min_agreement
    if params.min_confidence is not None:
        where.append("b.confidence >= %(min_confidence)s")
        args["min_confidence"] = params.min_confidence
    if params.min_answers is not None:
        where.append("b.n_answers >= %(min_answers)s")
        args["min_answers"] = params.min_answers
    if "unresolved" in params.exclude:
        where.append("b.consensus IS NOT NULL AND b.consensus <> 'null'::jsonb")
    if "ties" in params.exclude:
        where.append("NOT b.is_tie")
    if "borderline" in params.exclude:
        where.append("lower(trim(coalesce(b.consensus #>> '{}', ''))) <> ALL(%(borderline)s::text[])")
        args["borderline"] = sorted(BORDERLINE_NAMES)
    for index, (field, value) in enumerate(params.slices):
        where.append(f"b.metadata ->> %(slice_field_{index})s = %(slice_value_{index})s")
        args[f"slice_field_{index}"] = field
        args[f"slice_value_{index}"] = value
    base = f"""
        WITH b AS (
            SELECT r.item_id, i.external_id, i.data, nullif(i.media, '') AS media, i.metadata, i.is_gold,
                   {consensus} AS consensus, {chosen_method} AS method, {confidence} AS confidence,
                   r.agreement, r.n_answers, r.is_tie,
                   coalesce(({consensus})::text, 'null') AS stratum,
                   row_number() OVER (
                       PARTITION BY coalesce(({consensus})::text, 'null') ORDER BY r.item_id
                   ) - 1 AS pos
            FROM consistency_itemresult r JOIN labeling_item i ON i.id = r.item_id
            WHERE r.run_id = %(run)s
        )
        SELECT b.*, {split_expr} AS split FROM b
        {"WHERE " + " AND ".join(where) if where else ""}
        ORDER BY b.item_id
    """
    return base, args


def _escape(column: str) -> str:
    """Formula-looking cells get a leading apostrophe, as the reference CSV writer does."""
    return f"CASE WHEN {column} ~ '^[=+@\\t\\r-]' THEN '''' || {column} ELSE {column} END"


def fast_stream(*, project: Project, run: AgreementRun, params: ExportParams) -> Iterator[bytes]:
    select, args = _select(project, run, params)
    if params.format == "jsonl":
        query = f"""
            SELECT json_build_object(
                'agreement', s.agreement, 'confidence', s.confidence, 'consensus', s.consensus,
                'data', s.data, 'external_id', s.external_id, 'is_gold', s.is_gold, 'is_tie', s.is_tie,
                'item_id', s.item_id, 'media', s.media, 'metadata', s.metadata, 'method', s.method,
                'n_answers', s.n_answers, 'schema_version', %(version)s, 'split', s.split
            )::text FROM ({select}) s
        """
        # CSV mode with a quote character that JSON text never contains: PostgreSQL writes each
        # JSON line verbatim (text mode would escape the backslashes inside JSON strings).
        copy = f"COPY ({query}) TO STDOUT WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')"
    else:
        consensus_text = (
            "CASE WHEN jsonb_typeof(s.consensus) = 'string' THEN s.consensus #>> '{}' "
            "ELSE s.consensus::text END"
        )
        query = f"""
            SELECT s.item_id, {_escape("s.external_id")}, s.split, {_escape(consensus_text)}, s.method,
                   s.confidence, s.agreement, s.n_answers,
                   CASE WHEN s.is_gold THEN 'true' ELSE 'false' END,
                   CASE WHEN s.is_tie THEN 'true' ELSE 'false' END,
                   %(version)s, {_escape("s.media")}, {_escape("s.data::text")},
                   {_escape("s.metadata::text")}, NULL
            FROM ({select}) s
        """
        copy = f"COPY ({query}) TO STDOUT WITH (FORMAT csv)"
        from consistency.exports.formats import CSV_COLUMNS

        yield (",".join(CSV_COLUMNS) + "\n").encode()
    with connection.cursor() as cursor:
        # The split's window function sorts every row of the run: keep that sort in memory.
        cursor.execute("SET work_mem = '256MB'")
        try:
            with cursor.cursor.copy(copy, args) as stream:
                buffer = bytearray()
                for block in stream:
                    buffer += block
                    if len(buffer) >= 1 << 20:
                        yield bytes(buffer)
                        buffer.clear()
                if buffer:
                    yield bytes(buffer)
        finally:
            cursor.execute("RESET work_mem")
