# ruff: noqa: S608 — only constant SQL fragments are interpolated here; every value is a bound parameter.
"""The PostgreSQL fast path for JSONL and CSV exports: PostgreSQL computes each item's current
label (the rules of ``selectors.labels``, stated in SQL), assigns each row's split and writes
each row as a whole line (``exports.lines``), in item order, straight from the indexes, so the
first rows leave at once and memory stays flat. Lines come through a server-side cursor in
batches: Python only joins them (a COPY sends a message per row, and reading a million messages
cost more than writing them; assigning splits row by row in Python cost a third of the time).

Rows, filters and splits equal the reference path (``rows.export_rows``, used for Parquet, COCO,
Label Studio, ``include=answers``, slice stratification and other databases); the model-based
test in tests/consistency/test_labels_model.py holds them equal. Splits are assigned as the
reference does it: over every listed row in item order, stratified by the label's JSON text (the
stratum), the i-th row of a stratum takes the i-th entry of the split sequence rotated by the
stratum's offset; only rows that pass the filters are written. The fast path serves categorical
projects, whose labels are class names.
"""

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import ServerCursor
from psycopg.types.string import ByteaBinaryLoader

from consistency.exports import lines, strata
from consistency.exports.formats import CSV_COLUMNS
from consistency.exports.params import ExportParams
from consistency.exports.splits import SplitAssigner, SplitSpec, stratum_offset, weighted_sequence
from consistency.exports.sql import rows_sql
from consistency.models import ItemResult, Review
from consistency.selectors.labels import LabelContext
from labeling.models import Item, LabelClass, LabelKind, Project

CATEGORICAL = {LabelKind.CLASSES, LabelKind.RATING}
FETCH_ROWS = 10_000
# Up to this many strata PostgreSQL counts each stratum's rows itself (one running count per
# stratum, in the same pass); past it, the counts would cost more than Python's assignment.
MAX_SQL_STRATA = 16


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


def _split_names(params: ExportParams, spec: SplitSpec) -> list[str]:
    """The split of each position in a period, as the line writes it."""
    names = [spec.names[index] for index in weighted_sequence(spec)]
    return [json.dumps(name) for name in names] if params.format == "jsonl" else names


def _split_pick(spec: SplitSpec, params: ExportParams, texts: list[str], args: dict) -> str:
    """SQL for each row's split from its stratum's running count ``n<k>`` (its 1-based position)."""
    args["split_names"] = _split_names(params, spec)
    picks = []
    for k, text in enumerate(texts):
        args[f"st{k}"] = text
        args[f"off{k}"] = stratum_offset(params.seed, text, spec.period)
        picks.append(
            f"WHEN %(st{k})s THEN (%(split_names)s::text[])[mod(s.n{k} - 1 + %(off{k})s, {spec.period}) + 1]"
        )
    # A stratum outside ``texts`` leaves the line NULL, which the stream refuses (as the old
    # lookup by stratum did): every label a row can carry is among them.
    return f"CASE s.stratum {' '.join(picks)} END"


def _line(params: ExportParams, args: dict) -> tuple[str, str]:
    """SQL for a line's text before its split's value and after it."""
    if params.format == "jsonl":
        args["version_tail"] = f',"schema_version":{args["version"]},"split":'
        args["m_json"] = json.dumps(args["m"], ensure_ascii=False)
        return lines.jsonl_line(version_tail="%(version_tail)s"), lines.status_tail()
    args["version_text"] = str(args["version"])
    return lines.csv_line(), "''"


def _query(params: ExportParams, rows: str, args: dict, texts: list[str] | None) -> str:
    """Three levels: the rows (``rows_sql``); the values a line reads more than once, and with a
    split each stratum's running count (a window in item order over rows already in item order:
    nothing is sorted, the first rows leave at once); then the lines of the kept rows. With too
    many strata for running counts (``texts`` None), the parts around the split for Python."""
    texts_sql = lines.CSV_TEXTS if params.format == "csv" else {}
    inner = "".join(f", {sql} AS {name}" for name, sql in texts_sql.items())
    head, tail = _line(params, args)
    window, where = "", "WHERE s.keep"
    if params.split is None:
        no_split = "'null'" if params.format == "jsonl" else "''"
        line = f"{head} || {no_split} || {tail}"
    elif texts is not None:
        counts = [f"count(*) FILTER (WHERE s.stratum = %(st{k})s) OVER w AS n{k}" for k in range(len(texts))]
        inner += "".join(f", {count}" for count in counts)
        window = "WINDOW w AS (ORDER BY s.item_id ROWS UNBOUNDED PRECEDING)"
        line = f"{head} || {_split_pick(params.split, params, texts, args)} || {tail}"
    else:
        line, where = f"s.stratum, s.keep, {head}, {tail}", ""
    # Without values to compute once or counts, the middle level would only copy each row.
    middle = f"(SELECT s.*{inner} FROM ({rows}) s {window} ORDER BY s.item_id)" if inner else f"({rows})"
    return f"""
        SELECT {line}
        FROM {middle} s
        {where}
    """


def fast_stream(*, project: Project, ctx: LabelContext, params: ExportParams) -> Iterator[bytes]:
    rows, args = rows_sql(project, ctx, params)
    texts = _strata(project, ctx) if params.split else []
    in_sql = len(texts) <= MAX_SQL_STRATA
    query = _query(params, rows, args, texts if in_sql else None)
    assigner = None if in_sql or params.split is None else _Assigner(params, texts)
    if params.format == "csv":
        yield (",".join(CSV_COLUMNS) + "\n").encode()
    # One transaction: SET LOCAL dies with it, so behind PgBouncer (transaction pooling) the
    # settings never leak to another client's server connection.
    connection = connections[ctx.db]  # the primary, or the replica the export chose
    with transaction.atomic(using=ctx.db), connection.cursor() as cursor:
        # Stream in item order straight from the indexes: no hash table to build before row one.
        # No JIT: compiling this query's expressions took 1.9 s before the first row (1M items).
        cursor.execute("SET LOCAL enable_hashjoin = off; SET LOCAL jit = off")
        sql = cursor.cursor.mogrify(query, args)  # the values bound here, as Django binds them
        with connection.connection.cursor(name="concord_export", binary=True) as batches:
            # Text in binary format is its UTF-8 bytes, which psycopg's C bytea loader hands over
            # as they come: no Python call per value, no decoding 380 MB to str to encode it again.
            batches.adapters.register_loader("text", ByteaBinaryLoader)
            batches.execute(sql)
            for batch in _prefetched(batches):
                yield _lines(batch) if assigner is None else assigner.lines(batch)


def _prefetched(batches: ServerCursor) -> Iterator[list[tuple]]:
    """The cursor's batches, the next one fetched on a thread while the caller writes this one:
    a FETCH waits for PostgreSQL to compute its rows, and fetching in turn with writing left
    PostgreSQL idle while Python wrote, and Python idle while PostgreSQL computed (the wait
    releases the GIL; the thread is the only one using the connection meanwhile)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-fetch") as pool:
        pending = pool.submit(batches.fetchmany, FETCH_ROWS)
        try:
            while batch := pending.result():
                pending = pool.submit(batches.fetchmany, FETCH_ROWS)
                yield batch
        finally:
            pending.result()  # a closed download: the fetch in flight ends before the cursor closes


def _lines(batch: list[tuple]) -> bytes:
    out = [line for (line,) in batch]
    if None in out:
        raise RuntimeError("An export row's label is outside the labels its splits were read for.")
    return b"\n".join(out) + b"\n"


class _Assigner:
    """Splits assigned in Python, for projects with more strata than ``MAX_SQL_STRATA``: every
    listed row advances its stratum, the kept rows are written."""

    def __init__(self, params: ExportParams, texts: list[str]):
        assert params.split is not None
        self.assigner = SplitAssigner(params.split, params.seed)
        self.texts = set(texts)
        self.jsonl = params.format == "jsonl"

    def lines(self, batch: list[tuple]) -> bytes:
        out = []
        for stratum, keep, head, tail in batch:
            text = stratum.decode()
            if text not in self.texts:
                raise RuntimeError("An export row's label is outside the labels its splits were read for.")
            split = self.assigner.assign(text)
            if keep:
                out.append(b"%s%s%s" % (head, (json.dumps(split) if self.jsonl else split).encode(), tail))
        return b"\n".join(out) + b"\n" if out else b""


def _strata(project: Project, ctx: LabelContext) -> list[str]:
    """The stratum of every label a row can carry, as PostgreSQL writes the label's JSON (and as
    the reference path writes it): every class name any version had, and any stored decision
    or run consensus outside them."""
    values: set = {None} | set(
        LabelClass.objects.using(ctx.db)
        .filter(schema_version__project_id=project.id)
        .values_list("name", flat=True)
        .distinct()
    )
    values |= set(
        Item.objects.using(ctx.db)
        .filter(project_id=project.id, is_gold=True)
        .values_list("gold_value", flat=True)
    )
    values |= set(
        Review.objects.using(ctx.db).filter(project_id=project.id).values_list("final_value", flat=True)
    )
    if ctx.run_usable:
        if strata.applies(ctx):
            # The run's labels from its per-label counts (cached per run, warmed when it ends):
            # a DISTINCT over every result put 7.9 s before the first row at 2M items.
            values |= {None if label is None else json.loads(label) for label in strata.run_labels(ctx)}
        else:
            values |= set(
                ItemResult.objects.using(ctx.db)
                .filter(run=ctx.run)
                .values_list("consensus", flat=True)
                .distinct()
            )
    # Sorted: the same query text for the same labels.
    names = {json.dumps(value, ensure_ascii=False) for value in values if not isinstance(value, list | dict)}
    return sorted(names)
