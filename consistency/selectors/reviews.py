"""The disagreement queue, and what a reviewer sees of one item: every answer with its labeler
and HLP, consensus, model prediction, answer history, discussion and review state.

Disagreement score (documented in the API): for categorical answers, the share of answer pairs
that disagree on the item (1 − pairwise agreement: 0 when unanimous, 1 when every pair differs;
ties rank high); for transcripts, 1 − the mean pairwise 1 − WER; for boxes, 1 − the mean matched
IoU share. Items with a score above 0, or a tie, are in the queue, and so are items the adaptive
overlap policy flagged ("people disagree after max answers").

Likely wrong first (``order="likely_wrong"``): every item the run scored, lowest label quality
first (CROWDLAB: the answers weighted by labeler quality, plus the model's probabilities when
uploaded), unanimous ones included, since a labeler-quality-weighted vote or a confident model can
doubt them too; ``max_quality`` keeps the items scored below a threshold.
"""

from typing import TypedDict

from django.db.models import Case, Exists, F, JSONField, OuterRef, Q, QuerySet, Value, When

from consistency.models import AgreementRun, Comment, ItemResult, Prediction, Review, ReviewStatus
from consistency.report import report_from_json
from consistency.selectors.labels import decision_mappings, item_label, label_dict
from consistency.selectors.runs import run_latest
from core.errors import NotFound
from labeling.metadata import metadata_text
from labeling.models import Annotation, Item, Project
from labeling.selectors.workspace import item_media_urls


class QueueFilters(TypedDict, total=False):
    """``disagreement_queue``'s filters, as a page's or the API's query string gives them."""

    class_pair: tuple[str, str]
    slice_filter: tuple[str, str]
    labeler_id: int
    status: str
    model_disagrees: bool
    order: str
    max_quality: float
    flag: str


def disagreement_queue(
    *,
    project: Project,
    run: AgreementRun,
    class_pair: tuple[str, str] | None = None,
    slice_filter: tuple[str, str] | None = None,
    labeler_id: int | None = None,
    status: str | None = None,
    model_disagrees: bool | None = None,
    order: str = "disagreement",
    max_quality: float | None = None,
    flag: str | None = None,
) -> QuerySet[ItemResult]:
    """The run's disagreeing items, most disagreeing first (or likely wrong first), with their
    review status."""
    differs = _predictions_differing(project=project, run=run) if model_disagrees is not None else None
    results = ItemResult.objects.of_run(run)
    if order == "likely_wrong" or max_quality is not None:
        # A decided item (gold, resolved) is not likely wrong, whatever its answers scored.
        results = results.filter(label_quality__isnull=False, item__is_gold=False)
    else:
        in_queue = Q(disagreement__gt=0) | Q(is_tie=True) | Q(item__disagrees_after_max=True)
        if model_disagrees and differs is not None:
            # Where the model disagrees with a unanimous consensus, people may all be wrong: listed too.
            in_queue |= Q(Exists(differs))
        results = results.filter(in_queue)
    results = results.select_related("item").annotate(
        review_status=F("item__review__status"), review_version=F("item__review__version")
    )
    if order == "likely_wrong":
        results = results.order_by("label_quality", "-disagreement", "item_id")
    else:
        results = results.order_by("-is_tie", "-disagreement", "item_id")
    if max_quality is not None:
        results = results.filter(label_quality__lt=max_quality)
    if flag == "disagree_after_max":
        results = results.filter(item__disagrees_after_max=True)
    if class_pair:
        a, b = class_pair
        results = results.filter(Q(first_class=a, second_class=b) | Q(first_class=b, second_class=a))
    if slice_filter:
        field, value = slice_filter
        results = results.alias(_slice=metadata_text(field, "item__metadata")).filter(_slice=value)
    if labeler_id:
        results = results.filter(
            Exists(Annotation.objects.filter(item=OuterRef("item"), labeler_id=labeler_id, is_current=True))
        )
    if status:
        if status == ReviewStatus.OPEN:
            results = results.filter(Q(item__review__isnull=True) | Q(item__review__status=ReviewStatus.OPEN))
        else:
            results = results.filter(item__review__status=status)
    if differs is not None:  # model_disagrees given
        results = results.filter(Exists(differs)) if model_disagrees else results.exclude(Exists(differs))
    return results


def _predictions_differing(*, project: Project, run: AgreementRun) -> QuerySet[Prediction]:
    """The item's predictions that differ from the run's consensus, each read through the
    mappings to the run's schema version: after a merge a prediction of "deep scratch" equals
    "scratch"; one of a class split since has no reading and differs from nothing. Class values
    only (boxes and lists are compared as stored)."""
    mappings = decision_mappings(project=project, version=run.schema_version)
    renamed, unreadable = [], Q(pk__in=[])
    for version_id, mapping in mappings.items():
        for old, new in mapping.items():
            # UNKNOWN_VERSION (0): predictions stored before their version was recorded.
            stored = Q(schema_version_id=version_id or None, value=old)
            if new is None:
                unreadable |= stored
            else:
                renamed.append(When(stored, then=Value(new, output_field=JSONField())))
    predictions = Prediction.objects.filter(item=OuterRef("item")).exclude(unreadable)
    if not renamed:  # nothing renamed behind the run's version: the stored values are its values
        return predictions.exclude(value=OuterRef("consensus"))
    read = Case(*renamed, default=F("value"), output_field=JSONField())
    return predictions.alias(read=read).exclude(read=OuterRef("consensus"))


def review_item_get(*, project: Project, item_id: int) -> Item:
    item = Item.objects.filter(project=project, pk=item_id).first()
    if item is None:
        raise NotFound("Item not found.")
    return item


def review_detail(*, project: Project, item: Item) -> dict:
    run = run_latest(project=project)
    hlp = report_from_json(run.report if run else None).labeler_hlp()
    result = ItemResult.objects.of_run(run).filter(item=item).first() if run else None
    annotations = (
        Annotation.objects.filter(item=item)
        .select_related("labeler", "schema_version")
        .order_by("labeler__username", "created_at")
    )
    answers: list[dict] = []
    history: list[dict] = []
    for a in annotations:
        row = {
            "labeler": a.labeler.username,
            "labeler_id": a.labeler_id,
            "hlp": hlp.get(a.labeler_id),
            "value": a.value,
            "skip_reason": a.skip_reason,
            "comment": a.comment,
            "schema_version": a.schema_version.number,
            "time_spent_ms": a.time_spent_ms,
            "created_at": a.created_at,
            "current": a.is_current,
        }
        (answers if a.is_current else history).append(row)
    review = Review.objects.filter(item=item).first()
    current = item_label(project=project, item=item)
    return {
        "item": {
            "id": item.id,
            "external_id": item.external_id,
            "kind": item.kind,
            "data": item.data,
            "metadata": item.metadata,
            "is_gold": item.is_gold,
            "gold_value": item.gold_value,
            **item_media_urls(item),
        },
        "answers": answers,
        "history": history,
        # The answers' consensus on the current schema (live when answers came after the run).
        "consensus": None
        if result is None and not current.n_answers
        else {
            "value": current.consensus,
            "method": current.method,
            "confidence": current.confidence,
            "agreement": current.agreement,
            "disagreement": result.disagreement if result else None,
            "is_tie": current.consensus is None and current.n_answers > 0,
            "run": run.id if run else None,
            "run_number": run.number if run else None,
        },
        "label": label_dict(current),
        "predictions": list(Prediction.objects.filter(item=item).values("model_version", "value", "score")),
        "comments": [
            {"author": c.author.username, "text": c.text, "created_at": c.created_at}
            for c in Comment.objects.filter(item=item).select_related("author")
        ],
        "review": {
            "status": review.status if review else "open",
            "final_value": review.final_value if review else None,
            "is_example": review.is_example if review else False,
            "version": review.version if review else 0,
        },
    }
