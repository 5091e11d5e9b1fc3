"""The data browser: every item of a project, filtered, in pages walked by item id (keyset:
no OFFSET, so page 20,000 costs what page 1 costs), with each row's latest-run consensus,
agreement and review status fetched for the page only."""

from dataclasses import dataclass, field

from django.db.models import Exists, F, OuterRef, Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from consistency.exports.splits import parse_split_spec
from consistency.models import AgreementRun, ItemResult, Review, ReviewStatus
from consistency.selectors.browse_split import split_page_ids
from consistency.selectors.runs import run_latest
from labeling.models import Annotation, Item, LabelKind, Project

PAGE = 50
STATUSES = {
    "needs_answers": "Needs answers",
    "complete": "Complete",
    "in_review": "In review",
    "resolved": "Resolved",
    "gold": "Gold",
    "lacks_information": "Lacks information",
}
DEFAULT_SPLIT = "train:80,dev:10,test:10"


@dataclass(frozen=True)
class BrowseFilters:
    status: str = ""
    slice_field: str = ""
    slice_value: str = ""
    label_class: str = ""
    min_agreement: float | None = None
    max_agreement: float | None = None
    labeler_id: int | None = None
    split: str = ""
    split_spec: str = DEFAULT_SPLIT
    seed: int = 0
    search: str = ""
    show_hidden: bool = False
    errors: dict = field(default_factory=dict)


def _number(query, name: str, cast, errors: dict, low=None, high=None):
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = cast(raw)
    except ValueError:
        errors[name] = f"{name.replace('_', ' ')} must be a number, not {raw!r}."
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        errors[name] = f"{name.replace('_', ' ')} must be between {low} and {high}."
        return None
    return value


def browse_filters_parse(query, *, project: Project) -> BrowseFilters:
    """Filters from a query string; what is wrong is reported in ``errors`` (never a 500)."""
    errors: dict[str, str] = {}
    status = query.get("status", "")
    if status and status not in STATUSES:
        errors["status"] = f"Unknown status {status!r}."
        status = ""
    slice_field, _, slice_value = (query.get("slice") or "").partition(":")
    split, spec = query.get("split", ""), query.get("split_spec") or DEFAULT_SPLIT
    if split and project.label_kind not in (LabelKind.CLASSES, LabelKind.RATING):
        errors["split"] = (
            "Splits are stratified by class: the split filter is for one-class-per-item projects."
        )
        split = ""
    if split:
        try:
            names = parse_split_spec(spec).names
        except ValueError as exc:
            errors["split_spec"] = str(exc)
            split = ""
        else:
            if split not in names:
                errors["split"] = f"{split!r} is not a split of {spec}."
                split = ""
    return BrowseFilters(
        status=status,
        slice_field=slice_field.strip(),
        slice_value=slice_value.strip(),
        label_class=query.get("class", ""),
        min_agreement=_number(query, "min_agreement", float, errors, -1, 1),
        max_agreement=_number(query, "max_agreement", float, errors, -1, 1),
        labeler_id=_number(query, "labeler", int, errors, 1),
        split=split,
        split_spec=spec,
        seed=_number(query, "seed", int, errors, 0, 2**31) or 0,
        search=(query.get("q") or "").strip()[:255],
        show_hidden=query.get("hidden") == "1",
        errors=errors,
    )


def _review_status(status: str) -> Q:
    return Q(Exists(Review.objects.filter(item=OuterRef("pk"), status=status)))


def browse_queryset(*, project: Project, filters: BrowseFilters, run: AgreementRun | None) -> QuerySet[Item]:
    items = Item.objects.filter(project=project)
    status = filters.status
    if status == "needs_answers":
        items = items.filter(is_gold=False, slots_taken__lt=F("target"))
    elif status == "complete":
        items = items.filter(slots_taken__gte=F("target"))
    elif status == "gold":
        items = items.filter(is_gold=True)
    elif status:
        items = items.filter(_review_status(status))
    if filters.slice_field:
        # KeyTextTransform, not `contains` (which SQLite lacks) nor an f-string lookup: a key is data.
        # Cast: on SQLite an exact lookup on a key would read the value as JSON ("malformed JSON").
        slice_value = Cast(KeyTextTransform(filters.slice_field, "metadata"), TextField())
        items = items.alias(_slice=slice_value).filter(_slice=filters.slice_value)
    if filters.labeler_id:
        answered = Annotation.objects.filter(
            item=OuterRef("pk"), labeler_id=filters.labeler_id, is_current=True
        )
        items = items.filter(Exists(answered))
    if filters.search:
        items = items.filter(external_id__icontains=filters.search)
    result_filter = Q()
    if filters.label_class:
        result_filter &= Q(consensus=filters.label_class)
    if filters.min_agreement is not None:
        result_filter &= Q(agreement__gte=filters.min_agreement)
    if filters.max_agreement is not None:
        result_filter &= Q(agreement__lte=filters.max_agreement)
    if result_filter:
        if run is None:
            return items.none()
        items = items.filter(
            Exists(ItemResult.objects.of_run(run).filter(result_filter, item=OuterRef("pk")))
        )
    return items


def browse_page(
    *,
    project: Project,
    filters: BrowseFilters,
    after: int | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> dict:
    """One page of rows (``limit``, ``PAGE`` by default), walking item ids upward from
    ``after`` or downward from ``before``; ``next_after``/``prev_before`` say where the
    neighbouring pages start."""
    run = run_latest(project=project)
    items = browse_queryset(project=project, filters=filters, run=run).only(
        "id", "external_id", "kind", "metadata", "is_gold", "target", "slots_taken"
    )
    if filters.split:
        page_ids = split_page_ids(
            items=items,
            project=project,
            spec=filters.split_spec,
            split=filters.split,
            seed=filters.seed,
            after=after,
            before=before,
            limit=limit + 1,
        )
        items = items.filter(pk__in=page_ids)
    if before is not None:
        rows = list(items.filter(pk__lt=before).order_by("-pk")[: limit + 1])
        has_more_back = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        has_more_forward = True
    else:
        rows = list((items.filter(pk__gt=after) if after else items).order_by("pk")[: limit + 1])
        has_more_forward = len(rows) > limit
        rows = rows[:limit]
        has_more_back = after is not None
    ids = [r.id for r in rows]
    results = (
        {
            r["item_id"]: r
            for r in ItemResult.objects.of_run(run)
            .filter(item_id__in=ids)
            .values("item_id", "consensus", "agreement", "n_answers", "is_tie")
        }
        if run and ids
        else {}
    )
    reviews = dict(Review.objects.filter(item_id__in=ids).values_list("item_id", "status")) if ids else {}
    return {
        "run": run,
        "rows": [
            {
                "item": r,
                "metadata": {
                    k: v
                    for k, v in (r.metadata or {}).items()
                    if filters.show_hidden or not str(k).startswith("_")
                },
                "result": results.get(r.id),
                "review": ReviewStatus(reviews[r.id]).label if r.id in reviews else "",
            }
            for r in rows
        ],
        "next_after": rows[-1].id if rows and has_more_forward else None,
        "prev_before": rows[0].id if rows and has_more_back else None,
    }


def split_names(spec: str) -> tuple[str, ...]:
    try:
        return parse_split_spec(spec).names
    except ValueError:
        return parse_split_spec(DEFAULT_SPLIT).names
