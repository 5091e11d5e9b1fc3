"""The data browser's split filter: which items the export would put in a split, one page at a
time, without numbering the whole run.

The export gives the i-th item (by id) of a consensus stratum the split at ``(i + offset) %
period`` of the round-robin sequence (``exports.splits``). A page starting after item ``a`` needs
each stratum's count of items up to ``a`` (one grouped count), then walks the run's results from
``a`` in id order, numbering as it goes, until the page is full: the cost follows the page, not
the project (walking backwards from ``before`` the same way)."""

import json
from collections import Counter

from django.db.models import Count, QuerySet

from consistency.exports.splits import parse_split_spec, stratum_offset, weighted_sequence
from consistency.models import AgreementRun, ItemResult

CHUNK = 2_000


def _key(consensus) -> str:
    return json.dumps(consensus, sort_keys=True, ensure_ascii=False)


def split_page_ids(
    *, items: QuerySet, run: AgreementRun, spec: str, split: str, seed: int, after, before, limit: int
) -> list[int]:
    """Up to ``limit`` ids of ``items`` in ``split``: the first after ``after`` (ascending), or
    the last before ``before`` (descending)."""
    parsed = parse_split_spec(spec)
    sequence, period = weighted_sequence(parsed), parsed.period
    wanted = parsed.names.index(split)
    offsets: dict[str, int] = {}
    results = ItemResult.objects.filter(run=run)
    backwards = before is not None
    edge = results.filter(item_id__lt=before) if backwards else results.filter(item_id__lte=after or 0)
    seen = Counter(
        {
            _key(row["consensus"]): row["n"]
            for row in edge.values("consensus").annotate(n=Count("pk")).order_by()
        }
    )
    found: list[int] = []
    chunk: list[int] = []

    def flush() -> None:
        ordered = items.filter(pk__in=chunk).order_by("-pk" if backwards else "pk")
        found.extend(ordered.values_list("pk", flat=True))
        chunk.clear()

    for item_id, consensus in _walk(results, after=after or 0, before=before):
        key = _key(consensus)
        if backwards:
            seen[key] -= 1
            position = seen[key]
        else:
            position = seen[key]
            seen[key] += 1
        if key not in offsets:
            offsets[key] = stratum_offset(seed, key, period)
        if sequence[(position + offsets[key]) % period] == wanted:
            chunk.append(item_id)
            if len(chunk) >= CHUNK // 4:
                flush()
                if len(found) >= limit:
                    break
    if chunk and len(found) < limit:
        flush()
    return found[:limit]


def _walk(results: QuerySet, *, after: int, before: int | None):
    """The run's (item id, consensus) from ``after`` up, or from ``before`` down, in LIMITed
    keyset chunks: each chunk is a short index range scan (an open cursor would make PostgreSQL
    plan for the whole run, a sort of every row)."""
    last = before if before is not None else after
    while True:
        if before is not None:
            rows = list(
                results.filter(item_id__lt=last)
                .order_by("-item_id")
                .values_list("item_id", "consensus")[:CHUNK]
            )
        else:
            rows = list(
                results.filter(item_id__gt=last)
                .order_by("item_id")
                .values_list("item_id", "consensus")[:CHUNK]
            )
        yield from rows
        if len(rows) < CHUNK:
            return
        last = rows[-1][0]
