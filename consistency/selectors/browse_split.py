"""The data browser's split filter: which items the export would put in a split, one page at a
time.

The export assigns splits over every listed item in id order, stratified by each item's current
label (``selectors.labels``: resolution, else gold, else consensus): the i-th item of a stratum
takes the i-th entry of the split sequence. On PostgreSQL with a run on the current version, a
page starts from each label's count of items before it (``exports.strata``: the run's stored
per-block counts, one block of its results; the touched items' cached per-block shifts below
the blocks its first chunk spans, ``exports.touched_blocks``, and the rows of the touched items
in those blocks) and walks the run's results from there in keyset chunks, reading the rest of
the touched items only if it walks on (never the project's other items).
Otherwise the page reads the export's own rows (``exports.rows.export_rows``) from the first
item. tests/consistency/test_export_preview.py holds both equal to the export's splits."""

import bisect
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import QueryDict

from consistency.exports import strata, touched_blocks
from consistency.exports.params import ExportParams, parse_export_params
from consistency.exports.rows import export_context, export_rows
from consistency.exports.splits import stratum_offset, weighted_sequence
from consistency.selectors.labels import LabelContext
from labeling.models import Project

CHUNK = 500
WALK = 2_000  # run results read per step of the walk


def _params(spec: str, seed: int) -> ExportParams:
    query = QueryDict(mutable=True)
    query.update({"format": "jsonl", "split": spec, "seed": str(seed)})
    return parse_export_params(query)


def _ids_in_split(*, project: Project, params: ExportParams, ctx, split: str) -> Iterator[int]:
    return (
        row["item_id"]
        for row in export_rows(project=project, ctx=ctx, params=params)
        if row["split"] == split
    )


def _walk(
    *, project: Project, ctx: LabelContext, params: ExportParams, start: int, descending: bool
) -> Iterator[tuple[int, str, bool]]:
    """(item id, split, kept by the export) of every listed item from ``start`` on (ids above
    ``start``, or below it descending), in id order."""
    spec = params.split
    assert spec is not None  # _params always asks for a split
    sequence = weighted_sequence(spec)
    rows = strata.run_rows(ctx, after=start, descending=descending, limit=WALK)
    end = rows[-1][0] if len(rows) == WALK else None  # None: the run's results are exhausted
    # Only the rows of the touched items the first chunk of run results spans are read (their
    # rows are most of a page's time), from the start of its lowest block; those below count
    # through their cached per-block shift (``touched_blocks``). The rest are read if it walks on.
    first = start if descending else start + 1  # the positions count the items below this id
    low = ((end or 0) if descending else first) // strata.BLOCK * strata.BLOCK
    shift_low = touched_blocks.shift_before(project=project, ctx=ctx, params=params, low=low) if low else None
    index = strata.strata_read(
        project=project,
        ctx=ctx,
        params=params,
        below=start if descending else (end + 1 if end is not None else None),
        low=low,
        shift_low=shift_low,
    )
    positions = index.all_positions_before(first)
    offsets: dict = {}
    touched_ids = index.ids  # grows in place if the walk reads the rest of the touched items
    cursor = start
    while True:
        # The touched items in the same id range take their current row instead of the run's.
        if descending:
            low = bisect.bisect_left(touched_ids, end) if end is not None else 0
            extra = index.touched[low : bisect.bisect_left(touched_ids, cursor)]
        else:
            high = bisect.bisect_right(touched_ids, end) if end is not None else len(touched_ids)
            extra = index.touched[bisect.bisect_right(touched_ids, cursor) : high]
        merged = [(i, label, True, True) for i, label in rows if i not in index.by_id]
        merged += [(t.item_id, t.label, t.listed, t.keep) for t in extra]
        merged.sort(reverse=descending)
        for item_id, label, listed, keep in merged:
            if not listed:
                continue
            if label not in offsets:
                offsets[label] = stratum_offset(params.seed, strata.stratum_text(label), spec.period)
            if descending:
                positions[label] = positions.get(label, 0) - 1
                position = positions[label]
            else:
                position = positions.get(label, 0)
                positions[label] = position + 1
            yield item_id, spec.names[sequence[(position + offsets[label]) % spec.period]], keep
        if end is None:
            return
        cursor = end
        rows = strata.run_rows(ctx, after=cursor, descending=descending, limit=WALK)
        end = rows[-1][0] if len(rows) == WALK else None
        if not descending and index.below is not None:
            # A page that walks on (other filters, a rare split) reads the rest at once: one
            # read of the touched items, as before, rather than a few queries a chunk.
            index.extend(
                strata.touched_read(project=project, ctx=ctx, params=params, low=index.below), below=None
            )
        if descending and index.low:
            index.extend_down(strata.touched_read(project=project, ctx=ctx, params=params, high=index.low))


def _filtered(items: QuerySet, ids: list[int], descending: bool) -> list[int]:
    order = "-pk" if descending else "pk"
    return list(items.filter(pk__in=ids).order_by(order).values_list("pk", flat=True))


def split_page_ids(
    *, items: QuerySet, project: Project, spec: str, split: str, seed: int, after, before, limit: int
) -> list[int]:
    """Up to ``limit`` ids of ``items`` in ``split``: the first after ``after`` (ascending), or
    the last before ``before`` (descending)."""
    params = _params(spec, seed)
    ctx = export_context(project=project, params=params)
    in_split: Iterator[int]
    if strata.applies(ctx):
        descending = before is not None
        walk = _walk(
            project=project,
            ctx=ctx,
            params=params,
            start=before if descending else (after or 0),
            descending=descending,
        )
        in_split = (item_id for item_id, name, keep in walk if keep and name == split)
    else:
        in_split = _ids_in_split(project=project, params=params, ctx=ctx, split=split)
        if before is not None:
            in_split = iter(sorted((i for i in in_split if i < before), reverse=True))
        else:
            in_split = (i for i in in_split if i > (after or 0))
    found: list[int] = []
    chunk: list[int] = []
    descending = before is not None
    size = min(CHUNK, 2 * limit)  # the other filters are checked a chunk of candidates at a time
    for item_id in in_split:
        chunk.append(item_id)
        if len(chunk) >= size:
            found.extend(_filtered(items, chunk, descending))
            chunk = []
            if len(found) >= limit:
                return found[:limit]
    if chunk:
        found.extend(_filtered(items, chunk, descending))
    return found[:limit]
