"""The data browser's split filter: which items the export would put in a split, one page at a
time.

The export assigns splits over every listed item in id order, stratified by each item's current
label (``selectors.labels``: resolution, else gold, else consensus). The page reads the export's
own rows (``exports.rows.export_rows``) rather than a second implementation of the assignment,
so the filter and the file cannot disagree; the cost grows with how deep the page is (a walk from
the first item), not with what the page shows."""

from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import QueryDict

from consistency.exports.params import parse_export_params
from consistency.exports.rows import export_context, export_rows
from labeling.models import Project

CHUNK = 500


def _ids_in_split(*, project: Project, spec: str, split: str, seed: int) -> Iterator[int]:
    query = QueryDict(mutable=True)
    query.update({"format": "jsonl", "split": spec, "seed": str(seed)})
    params = parse_export_params(query)
    ctx = export_context(project=project, params=params)
    return (
        row["item_id"]
        for row in export_rows(project=project, ctx=ctx, params=params)
        if row["split"] == split
    )


def split_page_ids(
    *, items: QuerySet, project: Project, spec: str, split: str, seed: int, after, before, limit: int
) -> list[int]:
    """Up to ``limit`` ids of ``items`` in ``split``: the first after ``after`` (ascending), or
    the last before ``before`` (descending)."""
    in_split = _ids_in_split(project=project, spec=spec, split=split, seed=seed)
    if before is not None:
        candidates = [i for i in in_split if i < before]
        found: list[int] = []
        for end in range(len(candidates), 0, -CHUNK):
            chunk = candidates[max(0, end - CHUNK) : end]
            found.extend(items.filter(pk__in=chunk).order_by("-pk").values_list("pk", flat=True))
            if len(found) >= limit:
                break
        return found[:limit]
    found = []
    chunk = []
    for item_id in in_split:
        if item_id <= (after or 0):
            continue
        chunk.append(item_id)
        if len(chunk) >= CHUNK:
            found.extend(items.filter(pk__in=chunk).order_by("pk").values_list("pk", flat=True))
            chunk = []
            if len(found) >= limit:
                return found[:limit]
    if chunk:
        found.extend(items.filter(pk__in=chunk).order_by("pk").values_list("pk", flat=True))
    return found[:limit]
