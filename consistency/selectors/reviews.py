"""What a reviewer sees of one item: every answer with its labeler and HLP, consensus, model
prediction, answer history, discussion and review state."""

from consistency.models import Comment, ItemResult, Prediction, Review
from consistency.selectors.labels import item_label, label_dict
from consistency.selectors.runs import run_latest
from core.errors import NotFound
from labeling.models import Annotation, Item, Project
from labeling.selectors.workspace import item_media_urls


def review_item_get(*, project: Project, item_id: int) -> Item:
    item = Item.objects.filter(project=project, pk=item_id).first()
    if item is None:
        raise NotFound("Item not found.")
    return item


def review_detail(*, project: Project, item: Item) -> dict:
    run = run_latest(project=project)
    hlp = {}
    if run and run.report:
        hlp = {row["labeler_id"]: row.get("loo_rate") for row in run.report.get("labelers", [])}
    result = ItemResult.objects.filter(run=run, item=item).first() if run else None
    annotations = (
        Annotation.objects.filter(item=item)
        .select_related("labeler", "schema_version")
        .order_by("labeler__username", "created_at")
    )
    answers, history = [], []
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
