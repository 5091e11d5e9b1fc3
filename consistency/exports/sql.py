# ruff: noqa: S608 — only constant SQL fragments are interpolated here; every value is a bound parameter.
"""The export's row query on PostgreSQL: each item's current label (the rules of
``selectors.labels``, stated in SQL: a resolution, else gold, else the run's consensus read
through the schema mappings, or the live majority of the answers given since the run).

Used by the fast export path (``exports.fast``) and by the split counts (``exports.strata``),
which runs it over the items touched since the run.
"""

import json

from consistency.exports.params import BORDERLINE_NAMES, ExportParams
from consistency.selectors.labels import UNKNOWN_VERSION, LabelContext
from labeling.models import Project


def _mapped(value: str, version: str) -> str:
    """SQL for a class name read through the mappings (``selectors.labels``): %(maps)s is
    {version id: {old: new | null}}; a name without an entry stays as it is."""
    entry = f"(%(maps)s::jsonb -> ({version})::text)"
    return f"CASE WHEN {entry} ? ({value} #>> '{{}}') THEN {entry} -> ({value} #>> '{{}}') ELSE {value} END"


def _live_sql(ctx: LabelContext, *, touched: bool) -> str:
    """Majority vote of the mapped current answers of the items answered since the run (all
    answered items without a usable run): the same figures as ``selectors.labels._majority``.
    ``touched``: of the items of ``%(only)s`` only (the rows asked for)."""
    since = "AND a.created_at >= %(since)s" if ctx.since is not None else ""
    if touched:
        since += " AND a.item_id = ANY(%(only)s::bigint[])"
    mapped = _mapped("a.value", "a.schema_version_id")
    return f"""
        delta AS MATERIALIZED (
            SELECT DISTINCT a.item_id FROM labeling_annotation a JOIN labeling_item di ON di.id = a.item_id
            WHERE di.project_id = %(project)s AND a.is_current {since}
        ),
        -- Every current answer of those items, skips and unmapped values as NULL, so that each
        -- item has rows and no join back to ``delta`` is needed: CTEs are estimated at one row,
        -- and the joins this replaced were planned as nested loops over them (0.2-0.3 s for
        -- 1,000 items answered since the run).
        av AS (
            SELECT a.item_id, CASE WHEN a.skip_reason = '' THEN nullif({mapped}, 'null'::jsonb) END AS v
            FROM labeling_annotation a JOIN delta d ON d.item_id = a.item_id
            WHERE a.is_current
        ),
        cnt AS (
            SELECT item_id, v, n, max(n) FILTER (WHERE v IS NOT NULL) OVER (PARTITION BY item_id) AS top
            FROM (SELECT item_id, v, count(*) AS n FROM av GROUP BY item_id, v) grouped
        ),
        agg AS (
            SELECT item_id, coalesce(sum(n) FILTER (WHERE v IS NOT NULL), 0) AS total, max(top) AS top,
                   sum(n * (n - 1)) FILTER (WHERE v IS NOT NULL) AS pairs,
                   min(v::text) FILTER (WHERE v IS NOT NULL AND n = top) AS winner,
                   count(*) FILTER (WHERE v IS NOT NULL AND n = top) AS k
            FROM cnt GROUP BY item_id
        ),
        live AS MATERIALIZED (
            SELECT g.item_id, g.total::int AS total,
                   CASE WHEN g.k = 1 THEN g.winner::jsonb END AS consensus,
                   g.top::float8 / nullif(g.total, 0)::float8 AS confidence,
                   CASE WHEN g.total >= 2
                        THEN g.pairs::float8 / (g.total * (g.total - 1))::float8 END AS agreement,
                   g.k > 1 AS tie
            FROM agg g
        ),"""


def rows_sql(
    project: Project,
    ctx: LabelContext,
    params: ExportParams,
    *,
    touched: bool = False,
    half: tuple[int, int] | None = None,
) -> tuple[str, dict]:
    """The export's rows. ``touched``: only the items of ``%(only)s`` (the caller adds it: the
    project's items whose row may differ from their run result, ``strata.touched_ids``; ids of
    another project's items are not checked), listed or not, each
    with its run consensus (``run_v``) and run answer count (``run_n``): what
    ``exports.strata`` corrects its per-run counts with. ``half``: (block, parity), only the
    items of every other block of ``block`` ids, those whose ``id / block`` has that parity
    (``exports.fast`` reads the two halves on two connections at once)."""
    maps = {str(k): v for k, v in ctx.mappings.items() if v}
    args: dict = {
        "m": ctx.method,
        "run": ctx.run.results_id if ctx.run is not None and ctx.run_usable else None,
        "version": ctx.version.number,
        "project": project.id,
        "since": ctx.since,
        "maps": json.dumps(maps),
        "unknown": UNKNOWN_VERSION,
    }
    decided = "b.label_source IN ('resolved', 'gold')"
    keep = ["b.listed"]
    if not params.include_lacks_information:
        keep.append("b.status <> 'lacks_information'")
    if params.min_agreement is not None:
        keep.append(f"({decided} OR coalesce(b.agreement >= %(min_agreement)s, false))")
        args["min_agreement"] = params.min_agreement
    if params.min_confidence is not None:
        keep.append(f"({decided} OR coalesce(b.confidence >= %(min_confidence)s, false))")
        args["min_confidence"] = params.min_confidence
    if params.min_answers is not None:
        keep.append(f"({decided} OR b.n_answers >= %(min_answers)s)")
        args["min_answers"] = params.min_answers
    if params.min_quality is not None:
        keep.append(f"({decided} OR coalesce(b.label_quality >= %(min_quality)s, false))")
        args["min_quality"] = params.min_quality
    if "unresolved" in params.exclude:
        keep.append("b.label IS NOT NULL")
    if "ties" in params.exclude:
        keep.append("NOT b.is_tie")
    if "borderline" in params.exclude:
        keep.append("lower(trim(coalesce(b.label #>> '{}', ''))) <> ALL(%(borderline)s::text[])")
        args["borderline"] = sorted(BORDERLINE_NAMES)
    for index, (field, value) in enumerate(params.slices):
        keep.append(f"coalesce(b.metadata ->> %(sf{index})s = %(sv{index})s, false)")
        args[f"sf{index}"], args[f"sv{index}"] = field, value
    # The run's own method needs no look into by_method (the common case, and the cheap one).
    run_value = (
        "CASE WHEN r.method = %(m)s THEN r.consensus "
        "WHEN r.by_method ? %(m)s THEN r.by_method -> %(m)s -> 'value' "
        "WHEN r.method = 'gold' THEN NULL ELSE r.consensus END"
    )
    resolved = _mapped("rv.final_value", f"coalesce(rv.final_version_id, {UNKNOWN_VERSION})")
    gold = _mapped("i.gold_value", f"coalesce(i.gold_version_id, {UNKNOWN_VERSION})")
    touched_columns = _TOUCHED_COLUMNS.format(run_value=run_value) if touched else ""
    if touched and not params.slices:
        # The touched items come from the project's own tables (``strata.touched_ids``); of
        # their item rows only a gold item's is read, from the partial gold index: the others'
        # columns (gold, metadata for slices) cannot change their label. 11,100 touched items at
        # 1M: 0.15 s of heap reads less.
        assert half is None, "the touched items are read whole"
        source, item_id, where = _TOUCHED_SOURCE, "t.id", ""
    else:
        source, item_id = "labeling_item i", "i.id"
        where = f"WHERE i.project_id = %(project)s {_TOUCHED_WHERE if touched else ''}"
        if half is not None:
            # ``<>`` the other parity, not ``=`` this one: PostgreSQL estimates ``=`` on an
            # expression at 0.5 % of the rows and then plans a sort of all items (no first row
            # before the last); ``<>`` keeps the plan of the whole project's query.
            where += " AND mod(i.id / %(block)s, 2) <> %(other_parity)s"
            args["block"], args["other_parity"] = half[0], 1 - half[1]
    # ``c`` and ``b`` end with ORDER BY … OFFSET 0: PostgreSQL then computes each of their
    # columns once per row. Inlined, every use of ``consensus``/``label`` repeated its CASE
    # (about six times a row); ordered, the fences keep the item order, so nothing is sorted.
    # The stratum is the label's JSON text, which ``exports.fast`` counts rows by.
    sql = f"""
        WITH {_live_sql(ctx, touched=touched)}
        c AS (
            SELECT {item_id} AS item_id, i.external_id, i.data, nullif(i.media, '') AS media, i.metadata,
                   i.is_gold,
                   CASE WHEN l.item_id IS NOT NULL THEN l.consensus
                        WHEN r.item_id IS NOT NULL THEN nullif({run_value}, 'null'::jsonb) END AS consensus,
                   CASE WHEN l.item_id IS NOT NULL THEN 'majority'
                        WHEN r.item_id IS NULL OR r.method = %(m)s OR r.by_method ? %(m)s OR r.method = 'gold'
                        THEN %(m)s ELSE r.method END AS method,
                   CASE WHEN l.item_id IS NOT NULL THEN l.confidence
                        WHEN r.method = %(m)s THEN r.confidence
                        WHEN r.by_method ? %(m)s THEN (r.by_method -> %(m)s ->> 'confidence')::float8
                        WHEN r.method = 'gold' THEN NULL ELSE r.confidence END AS confidence,
                   CASE WHEN l.item_id IS NOT NULL THEN l.agreement ELSE r.agreement END AS agreement,
                   CASE WHEN l.item_id IS NOT NULL THEN l.total
                        ELSE coalesce(r.n_answers, 0) END AS n_answers,
                   CASE WHEN l.item_id IS NOT NULL THEN l.tie ELSE coalesce(r.is_tie, false) END AS tie,
                   r.label_quality,
                   coalesce(rv.status, 'open') AS status,
                   CASE WHEN rv.status = 'resolved' AND rv.final_value IS NOT NULL
                        THEN nullif({resolved}, 'null'::jsonb) END AS resolved,
                   CASE WHEN i.is_gold AND i.gold_value IS NOT NULL
                        THEN nullif({gold}, 'null'::jsonb) END AS gold,
                   rv.resolved_by_id, rv.resolved_at {touched_columns}
            FROM {source}
            LEFT JOIN consistency_itemresult r ON r.run_id = %(run)s AND r.item_id = {item_id}
            LEFT JOIN live l ON l.item_id = {item_id}
            LEFT JOIN consistency_review rv ON rv.item_id = {item_id}
            {where} ORDER BY {item_id} OFFSET 0
        ),
        b AS (
            SELECT c.*, coalesce(c.resolved, c.gold, c.consensus) AS label,
                   CASE WHEN c.resolved IS NOT NULL THEN 'resolved' WHEN c.gold IS NOT NULL THEN 'gold'
                        WHEN c.consensus IS NOT NULL THEN 'consensus' END AS label_source,
                   c.tie AND c.resolved IS NULL AND c.gold IS NULL AS is_tie,
                   CASE WHEN c.resolved IS NOT NULL
                        THEN (SELECT u.username FROM auth_user u WHERE u.id = c.resolved_by_id)
                   END AS resolved_by,
                   CASE WHEN c.resolved IS NOT NULL
                        THEN to_char(c.resolved_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')
                   END AS resolved_text,
                   c.n_answers > 0 OR coalesce(c.resolved, c.gold, c.consensus) IS NOT NULL AS listed
            FROM c ORDER BY c.item_id OFFSET 0
        )
        SELECT {"coalesce(b.label::text, 'null')" if params.split else "''"} AS stratum,
               ({" AND ".join(keep)}) AS keep, b.*
        FROM b {"" if touched else "WHERE b.listed"} ORDER BY b.item_id
    """
    return sql, args


_TOUCHED_COLUMNS = """, nullif({run_value}, 'null'::jsonb)::text AS run_v, coalesce(r.n_answers, 0) AS run_n,
                   r.item_id IS NOT NULL AS has_result"""
# Reviews of any status, gold items, and the items answered since the run (``delta`` above).
# The ids as one sorted array (``strata.touched_ids``): the index scan then reads the items in
# id order, about twice as fast as a join to the same ids in hash order.
_TOUCHED_WHERE = "AND i.id = ANY(%(only)s::bigint[])"
_TOUCHED_SOURCE = """unnest(%(only)s::bigint[]) t(id)
            LEFT JOIN labeling_item i ON i.project_id = %(project)s AND i.is_gold AND i.id = t.id"""
