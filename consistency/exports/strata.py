# ruff: noqa: S608 — only constant SQL fragments are interpolated here; every value is a bound parameter.
"""How many listed items each current label has, and where an item stands in its label's
stratum, without reading the project's rows.

The export (``exports.fast``) assigns splits over every listed item in id order, stratified by
its current label: the i-th item of a stratum gets the i-th entry of the split sequence. So the
export's row count and class balance per split follow from the number of items per label, and
the split of any item from its position in its stratum. Both are read here from two parts:

* **the run's part**, fixed once the run has finished: per label (the run's consensus, by the
  method asked) and per block of ``BLOCK`` item ids, how many items the run lists. One
  ``GROUP BY`` over the run's results (3.8 s at 1M items), stored with the run
  (``RunStrataCounts``, for processes without Redis) and cached per run and method (``warm``
  fills both at the end of a run).
* **the touched items**, read live: items with a review (of any status), gold items and items
  answered since the run. Only their rows can differ from their run result; they are read
  through the export's own row query (``sql.rows_sql(touched=True)``), so their labels,
  statuses and filters are the export's.

An item's position = the run's items of its label in the blocks before its block (cache) + those
in its block before it (a range of at most ``BLOCK`` rows of the run's results) − the touched
items before it the run counted under that label + the touched items before it that have that
label now. Exact, not sampled; tests compare it with the export's rows.

A run's results do not change once it has finished, so its cached part holds, except when an
item the run measured is deleted (the admin; an import's undo only removes items no run has
seen): the counts then include it until the next run.

Applies to categorical projects on PostgreSQL whose latest run measured the current version
(``ctx.run_usable``); otherwise every answered item is read live and callers use the export.
"""

import bisect
import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connections, transaction

from consistency.exports.params import ExportParams
from consistency.exports.sql import rows_sql
from consistency.models import RunStrataCounts
from consistency.selectors.labels import LabelContext, label_context
from labeling.models import Project

logger = logging.getLogger(__name__)

BLOCK = 2_000
CACHE_SECONDS = 7 * 24 * 3600
RUN_VALUE = (
    "CASE WHEN r.method = %(m)s THEN r.consensus "
    "WHEN r.by_method ? %(m)s THEN r.by_method -> %(m)s -> 'value' "
    "WHEN r.method = 'gold' THEN NULL ELSE r.consensus END"
)
# The run's listed items: an answer, or a consensus (``sql.rows_sql``'s ``listed``).
_LISTED = "(r.n_answers > 0 OR nullif(" + RUN_VALUE + ", 'null'::jsonb) IS NOT NULL)"
_KEY = "nullif(" + RUN_VALUE + ", 'null'::jsonb)::text"


def applies(ctx: LabelContext) -> bool:
    return connections[ctx.db].vendor == "postgresql" and ctx.categorical and ctx.run_usable


def run_id(ctx: LabelContext) -> int:
    """The id the measured run's results are stored under (its own, or the run it shares them
    with): these counts are read only for a usable run (``applies``)."""
    assert ctx.run is not None, "strata read without a run"
    return ctx.run.results_id


UNREACHABLE = object()  # what ``cache_get`` returns when the cache cannot be reached


def cache_get(key: str):
    """The cached value, None if absent, ``UNREACHABLE`` if Redis is down (callers compute, as
    without a cache)."""
    try:
        return cache.get(key)
    except Exception:
        logger.warning("strata cache unreachable", exc_info=True)
        return UNREACHABLE


def cache_set(key: str, value) -> None:
    try:
        cache.set(key, value, CACHE_SECONDS)
    except Exception:
        logger.warning("strata cache unreachable", exc_info=True)


def _cache_key(ctx: LabelContext) -> str:
    return f"strata:v1:{run_id(ctx)}:{ctx.method}:{BLOCK}"


def _run_blocks(ctx: LabelContext) -> dict[str | None, tuple[list[int], list[int]]]:
    """Per run label (jsonb text, None for none): sorted block numbers and the running total of
    listed items up to and including each block. From the cache, else the run's stored counts,
    else counted (and both filled)."""
    key = _cache_key(ctx)
    cached = cache_get(key)
    if cached is not None and cached is not UNREACHABLE:
        return cached
    # Kept on the primary, as every row but the export's bulk reads (``exports.source``).
    stored = RunStrataCounts.objects.filter(run_id=run_id(ctx), method=ctx.method, block=BLOCK)
    counts = stored.values_list("counts", flat=True).first()
    if counts is None:
        counts = _run_counts(ctx)
        RunStrataCounts.objects.bulk_create(
            [RunStrataCounts(run_id=run_id(ctx), method=ctx.method, block=BLOCK, counts=counts)],
            ignore_conflicts=True,  # two requests counted at once: the same figures
        )
    out = {label: (blocks, totals) for label, blocks, totals in counts}
    if cached is not UNREACHABLE:
        cache_set(key, out)
    return out


def _run_counts(ctx: LabelContext) -> list[tuple[str | None, list[int], list[int]]]:
    """One ``GROUP BY`` over the run's results: (label, block numbers, running totals)."""
    with connections[ctx.db].cursor() as cursor:
        cursor.execute(
            f"SELECT {_KEY}, r.item_id / %(b)s, count(*) FROM consistency_itemresult r "
            f"WHERE r.run_id = %(run)s AND {_LISTED} GROUP BY 1, 2 ORDER BY 1, 2",
            {"run": run_id(ctx), "m": ctx.method, "b": BLOCK},
        )
        out: dict[str | None, tuple[list[int], list[int]]] = {}
        for label, block, n in cursor.fetchall():
            blocks, totals = out.setdefault(label, ([], []))
            blocks.append(block)
            totals.append((totals[-1] if totals else 0) + n)
    return [(label, blocks, totals) for label, (blocks, totals) in out.items()]


def warm(*, project: Project, run) -> None:
    """Fill the per-run counts for the run's own method, so the first preview after a run is
    fast (call when a run has finished)."""
    ctx = label_context(project=project, run=run)
    if applies(ctx):
        _run_blocks(ctx)


@dataclass
class Touched:
    item_id: int
    label: str | None  # jsonb text of the current label
    listed: bool
    keep: bool
    status: str
    run_label: str | None
    in_run: bool  # counted in the run's part


def shift(touched: Iterable[Touched]) -> dict[str | None, int]:
    """Per label: of these touched items, those now listed under it less those the run counted
    under it (what they change in each label's count)."""
    out: dict[str | None, int] = {}
    for t in touched:
        if t.in_run:
            out[t.run_label] = out.get(t.run_label, 0) - 1
        if t.listed:
            out[t.label] = out.get(t.label, 0) + 1
    return out


@dataclass
class Strata:
    ctx: LabelContext
    blocks: dict
    touched: list[Touched]  # in item order
    below: int | None = None  # the touched items read: those with an id below this (None: all)
    # ... and from this id on; those below it count only through ``shift_low`` (their shift).
    low: int = 0
    shift_low: dict[str | None, int] = field(default_factory=dict)
    by_id: dict[int, Touched] = field(init=False)
    ids: list[int] = field(init=False)  # of the touched items, in order

    def __post_init__(self) -> None:
        self.by_id = {t.item_id: t for t in self.touched}
        self.ids = [t.item_id for t in self.touched]

    def extend(self, touched: list[Touched], *, below: int | None) -> None:
        """Add the touched items from ``self.below`` up to ``below`` (None: all the rest)."""
        assert self.below is not None, "every touched item is read already"
        self.touched += touched
        self.by_id.update((t.item_id, t) for t in touched)
        self.ids += [t.item_id for t in touched]
        self.below = below

    def extend_down(self, touched: list[Touched]) -> None:
        """Add the touched items below ``self.low``: every touched item up to ``below`` is read."""
        self.touched[:0] = touched
        self.by_id.update((t.item_id, t) for t in touched)
        self.ids[:0] = [t.item_id for t in touched]
        self.low, self.shift_low = 0, {}

    def counts(self) -> dict[str | None, int]:
        """Listed items per current label."""
        assert self.below is None and self.low == 0, "counts need every touched item"
        out = {label: totals[-1] for label, (_, totals) in self.blocks.items()}
        for label, n in shift(self.touched).items():
            out[label] = out.get(label, 0) + n
        return {label: n for label, n in out.items() if n > 0}

    def _run_before_block(self, label: str | None, block: int) -> int:
        blocks, totals = self.blocks.get(label, ([], []))
        index = bisect.bisect_left(blocks, block)
        return totals[index - 1] if index else 0

    def _touched_before(self, item_id: int) -> dict[str | None, int]:
        """Per label: touched items before ``item_id`` now listed under it, less those the run
        counted under it."""
        assert item_id >= self.low, "touched items not read"
        out = dict(self.shift_low)
        low = bisect.bisect_left(self.ids, self.low)
        for label, n in shift(self.touched[low : bisect.bisect_left(self.ids, item_id)]).items():
            out[label] = out.get(label, 0) + n
        return out

    def positions(self, items: list[tuple[int, str | None]]) -> dict[int, int]:
        """Position (0-based) of each (item id, its current label) in its label's stratum."""
        assert self.low == 0, "positions sweep the touched items from the first"
        assert self.below is None or all(i < self.below for i, _ in items), "touched items not read"
        if not items:
            return {}
        ids = [i for i, _ in items]
        with connections[self.ctx.db].cursor() as cursor:
            cursor.execute(
                f"""SELECT x.id, (SELECT count(*) FROM consistency_itemresult r
                        WHERE r.run_id = %(run)s AND r.item_id >= x.lo AND r.item_id < x.id
                          AND {_LISTED} AND {_KEY} IS NOT DISTINCT FROM x.label)
                    FROM unnest(%(ids)s::bigint[], %(los)s::bigint[], %(labels)s::text[]) x(id, lo, label)""",
                {
                    "run": run_id(self.ctx),
                    "m": self.ctx.method,
                    "ids": ids,
                    "los": [i // BLOCK * BLOCK for i in ids],
                    "labels": [label for _, label in items],
                },
            )
            partial = dict(cursor.fetchall())
        # One sweep over the touched items (in id order) for all the asked items.
        out: dict[int, int] = {}
        shift: dict[str | None, int] = {}
        touched = iter(self.touched)
        pending = next(touched, None)
        for item_id, label in sorted(items):
            while pending is not None and pending.item_id < item_id:
                if pending.in_run:
                    shift[pending.run_label] = shift.get(pending.run_label, 0) - 1
                if pending.listed:
                    shift[pending.label] = shift.get(pending.label, 0) + 1
                pending = next(touched, None)
            out[item_id] = (
                self._run_before_block(label, item_id // BLOCK) + partial[item_id] + shift.get(label, 0)
            )
        return out

    def all_positions_before(self, item_id: int) -> dict[str | None, int]:
        """Per label: listed items with that current label and an id below ``item_id``."""
        assert self.below is None or item_id <= self.below, "touched items not read"
        block = item_id // BLOCK
        out = {label: self._run_before_block(label, block) for label in self.blocks}
        with connections[self.ctx.db].cursor() as cursor:
            cursor.execute(
                f"SELECT {_KEY}, count(*) FROM consistency_itemresult r WHERE r.run_id = %(run)s "
                f"AND r.item_id >= %(lo)s AND r.item_id < %(id)s AND {_LISTED} GROUP BY 1",
                {"run": run_id(self.ctx), "m": self.ctx.method, "lo": block * BLOCK, "id": item_id},
            )
            for label, n in cursor.fetchall():
                out[label] = out.get(label, 0) + n
        for label, n in self._touched_before(item_id).items():
            out[label] = out.get(label, 0) + n
        return out


def run_rows(ctx: LabelContext, *, after: int, descending: bool, limit: int) -> list[tuple[int, str | None]]:
    """The run's listed items after (or before, descending) ``after``: (id, run label)."""
    op, order = ("<", "DESC") if descending else (">", "ASC")
    with connections[ctx.db].cursor() as cursor:
        cursor.execute(
            f"SELECT r.item_id, {_KEY} FROM consistency_itemresult r WHERE r.run_id = %(run)s "
            f"AND r.item_id {op} %(after)s AND {_LISTED} ORDER BY r.item_id {order} LIMIT %(limit)s",
            {"run": run_id(ctx), "m": ctx.method, "after": after, "limit": limit},
        )
        return cursor.fetchall()


def _range(column: str, low: int | None, high: int | None) -> str:
    return (f" AND {column} >= %(low)s" if low is not None else "") + (
        f" AND {column} < %(high)s" if high is not None else ""
    )


def touched_ids(
    *, project: Project, ctx: LabelContext, low: int | None = None, high: int | None = None
) -> list[int]:
    """Items whose export row may differ from their run result, in id order: a review of any
    status, gold, a current answer given since the run (``sql._live_sql``'s ``delta``). Only
    ids in [``low``, ``high``) when given."""
    with connections[ctx.db].cursor() as cursor:
        cursor.execute(
            f"""SELECT item_id FROM consistency_review WHERE project_id = %(project)s
                    {_range("item_id", low, high)}
               UNION SELECT id FROM labeling_item WHERE project_id = %(project)s AND is_gold
                    {_range("id", low, high)}
               UNION SELECT a.item_id FROM labeling_annotation a JOIN labeling_item di ON di.id = a.item_id
                     WHERE di.project_id = %(project)s AND a.is_current AND a.created_at >= %(since)s
                    {_range("a.item_id", low, high)}
               ORDER BY 1""",
            {"project": project.id, "since": ctx.since, "low": low, "high": high},
        )
        return [row[0] for row in cursor.fetchall()]


def touched_read(
    *,
    project: Project,
    ctx: LabelContext,
    params: ExportParams,
    low: int | None = None,
    high: int | None = None,
    blocks: Collection[int] | None = None,
) -> list[Touched]:
    """The touched items' rows under ``params``' filters (those in [``low``, ``high``) when
    given, and in these ``blocks`` of ``BLOCK`` ids), in id order."""
    only = touched_ids(project=project, ctx=ctx, low=low, high=high)
    if blocks is not None:
        only = [i for i in only if i // BLOCK in blocks]
    if not only:
        return []
    sql, args = rows_sql(project, ctx, params, touched=True)
    # One array literal: psycopg renders a list of 11,100 ids element by element (about 40 ms,
    # once per use in the query).
    args["only"] = "{" + ",".join(map(str, only)) + "}"
    with transaction.atomic(using=ctx.db), connections[ctx.db].cursor() as cursor:
        # A few thousand touched items, each read by its key. With the default random_page_cost
        # (4, for spinning disks) the planner hashed the whole item table instead (1.8 s against
        # 0.6 s at 1M items, measured under load); disabling hash joins made the join to the
        # live majority a nested loop (4.7 s).
        cursor.execute("SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1")
        cursor.execute(
            f"SELECT s.item_id, s.label::text, s.listed, s.keep, s.status, s.run_v, "
            f"s.has_result AND (s.run_n > 0 OR s.run_v IS NOT NULL) FROM ({sql}) s",
            args,
        )
        return [Touched(*row) for row in cursor.fetchall()]


def strata_read(
    *,
    project: Project,
    ctx: LabelContext,
    params: ExportParams,
    below: int | None = None,
    low: int = 0,
    shift_low: dict[str | None, int] | None = None,
) -> Strata:
    """The per-run counts (cached) and the touched items' rows under ``params``' filters: every
    one, or those with an id below ``below`` (enough for positions below it; ``Strata.extend``
    adds more), and from ``low`` on, given ``shift_low``, the ``shift`` of those below it
    (``touched_blocks.shift_before``)."""
    assert (low == 0) == (shift_low is None), "the touched items below low count through their shift"
    touched = touched_read(project=project, ctx=ctx, params=params, low=low or None, high=below)
    return Strata(
        ctx=ctx, blocks=_run_blocks(ctx), touched=touched, below=below, low=low, shift_low=shift_low or {}
    )


def stratum_text(label: str | None) -> str:
    """The stratum key the export uses for a label given as jsonb text."""
    return json.dumps(None if label is None else json.loads(label), sort_keys=True, ensure_ascii=False)
