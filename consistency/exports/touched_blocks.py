"""What the touched items below an item change in each label's count, without reading their
rows on every page.

A page of the split filter deep in a project needs, per label, the listed items before it. The
run's part is cached per block (``strata._run_blocks``); the touched items' part (reviews, gold,
answers since the run: about 11,100 rows at 1M items, their labels computed by the export's row
query) cost most of the page (120-300 ms). Here it is cached per block of ``strata.BLOCK`` ids
as the touched items' effect on each label's count (``strata.shift``), beside a fingerprint of
everything their labels are computed from:

* each review of the block (status, final value and version),
* each gold item (gold value and version; an item no longer gold leaves the set),
* every current answer of the items answered since the run (value, skip, version, whether it
  is newer than the run): the inputs of the live majority (``sql._live_sql``).

The run's results, the mappings and ``since`` are fixed for a key (run, method, block size,
mappings, since). One ``GROUP BY`` reads the fingerprints below the page (30-45 ms at 1M,
under load); only the blocks whose fingerprint changed are read again, through the export's own
row query. So a decision or an answer re-reads one block, never a stale count: what changes a
label changes its block's fingerprint. Without a cache every block is read, as before.

The fingerprint and the rows of changed blocks are read in one REPEATABLE READ transaction (when
not inside another), so a block's counts are stored with the fingerprint of the state they were
read from.
"""

import hashlib
import json

from django.db import connections, transaction
from django.db.models import Max

from consistency.exports import strata
from consistency.exports.params import ExportParams
from consistency.selectors.labels import LabelContext, label_context
from labeling.models import Project

_FINGERPRINTS = """
SELECT b, count(*), sum(h) FROM (
  SELECT item_id / %(block)s AS b,
         hash_record_extended((item_id, status, final_value, final_version_id), 1) AS h
    FROM consistency_review WHERE project_id = %(project)s AND item_id < %(high)s
  UNION ALL
  SELECT id / %(block)s, hash_record_extended((id, gold_value, gold_version_id), 2)
    FROM labeling_item WHERE project_id = %(project)s AND is_gold AND id < %(high)s
  UNION ALL
  SELECT a.item_id / %(block)s,
         hash_record_extended((a.id, a.value, a.skip_reason, a.schema_version_id,
                               a.created_at >= %(since)s), 3)
    FROM labeling_annotation a
   WHERE a.is_current AND a.item_id IN (
         SELECT n.item_id FROM labeling_annotation n JOIN labeling_item di ON di.id = n.item_id
          WHERE di.project_id = %(project)s AND n.is_current AND n.created_at >= %(since)s
            AND n.item_id < %(high)s)
) x GROUP BY 1
"""


def _key(ctx: LabelContext) -> str:
    maps = json.dumps({str(k): v for k, v in ctx.mappings.items() if v}, sort_keys=True, default=str)
    since = ctx.since.isoformat() if ctx.since is not None else ""
    digest = hashlib.sha256(f"{since}|{maps}".encode()).hexdigest()[:16]
    return f"strata-touched:v1:{strata.run_id(ctx)}:{ctx.method}:{strata.BLOCK}:{digest}"


def _fingerprints(*, project: Project, ctx: LabelContext, high: int) -> dict[int, tuple[int, int]]:
    with connections[ctx.db].cursor() as cursor:
        cursor.execute(
            _FINGERPRINTS, {"block": strata.BLOCK, "project": project.id, "high": high, "since": ctx.since}
        )
        return {block: (n, int(h)) for block, n, h in cursor.fetchall()}


def _read(
    *, project: Project, ctx: LabelContext, params: ExportParams, high: int, cached: dict
) -> tuple[dict, bool]:
    """The blocks below ``high``: ``{block: (fingerprint, shift)}`` with the changed ones read
    again, and whether any changed (one read, gone, or new)."""
    found = _fingerprints(project=project, ctx=ctx, high=high)
    changed = {block for block, fingerprint in found.items() if cached.get(block, (None,))[0] != fingerprint}
    out = {block: cached[block] for block in found if block not in changed}
    if changed:
        touched = strata.touched_read(
            project=project,
            ctx=ctx,
            params=params,
            low=min(changed) * strata.BLOCK,
            high=(max(changed) + 1) * strata.BLOCK,
            blocks=changed,
        )
        by_block: dict[int, list[strata.Touched]] = {block: [] for block in changed}
        for t in touched:
            by_block[t.item_id // strata.BLOCK].append(t)
        out.update((block, (found[block], strata.shift(rows))) for block, rows in by_block.items())
    gone = any(block * strata.BLOCK < high and block not in found for block in cached)
    return out, bool(changed) or gone


def shift_before(
    *, project: Project, ctx: LabelContext, params: ExportParams, low: int
) -> dict[str | None, int]:
    """Per label: the touched items with an id below ``low`` (a multiple of ``strata.BLOCK``)
    now listed under it, less those the run counted under it."""
    assert low % strata.BLOCK == 0, "the touched items are cached by whole blocks"
    if low == 0:
        return {}
    key = _key(ctx)
    cached = strata.cache_get(key)
    if cached is None:
        cached = {}
    elif cached is strata.UNREACHABLE:
        return strata.shift(strata.touched_read(project=project, ctx=ctx, params=params, high=low))
    connection = connections[ctx.db]
    outermost = not connection.in_atomic_block  # inside another transaction (tests), its snapshot rules
    with transaction.atomic(using=ctx.db):
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        blocks, changed = _read(project=project, ctx=ctx, params=params, high=low, cached=cached)
    if changed:
        # The blocks from ``low`` on stay as they were (a page deeper in filled them).
        strata.cache_set(key, {**{b: v for b, v in cached.items() if b * strata.BLOCK >= low}, **blocks})
    out: dict[str | None, int] = {}
    for _, block_shift in blocks.values():
        for label, n in block_shift.items():
            out[label] = out.get(label, 0) + n
    return out


def warm(*, project: Project, run) -> None:
    """Fill the shifts of every block for the run's own method, so the first deep split page
    after a run does not read every touched item (call when a run has finished, after
    ``strata.warm``)."""
    ctx = label_context(project=project, run=run)
    last = project.items.aggregate(last=Max("id"))["last"]
    if strata.applies(ctx) and last is not None:
        shift_before(
            project=project, ctx=ctx, params=ExportParams(), low=(last // strata.BLOCK + 1) * strata.BLOCK
        )
