"""The disagreement queue and the reviewer's item page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from consistency.explanations import status_words
from consistency.selectors.labels import rows_with_labels
from consistency.selectors.queue_filters import parse_queue_filters
from consistency.selectors.reviews import disagreement_queue, review_detail, review_item_get
from consistency.selectors.runs import run_freshness, run_latest
from consistency.services.reviews import comment_add, review_act
from consistency.views.review_page import (
    ACTION_DONE,
    queue_filters,
    queue_neighbours,
    review_page_config,
    review_value,
)
from core.errors import ApplicationError
from labeling.selectors.projects import REVIEW_ROLES, project_get_for_member

ITEMS_PAGE = 50


@require_GET
@login_required
def review_queue(request, project_id: int):
    """The disagreement queue: filters by class pair, slice, labeler, status, model disagreement."""
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    run = run_latest(project=project)
    try:
        filters = parse_queue_filters(request.GET)
        error = ""
    except ApplicationError as exc:
        filters, error = {}, exc.message
    rows = disagreement_queue(project=project, run=run, **filters)[:ITEMS_PAGE] if run else []
    context = {
        "project": project,
        "run": run,
        "freshness": run_freshness(project=project, run=run),
        "rows": rows_with_labels(project=project, rows=rows),
        "error": error,
        "filters": request.GET,
        "classes": [c.name for c in project.schema_version.classes.all()] if project.schema_version else [],
    }
    return render(request, "consistency/queue.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def review_item(request, project_id: int, item_id: int):
    """One item under review: every answer drawn the way the labelers saw the item, consensus,
    model, history, discussion. After an action the next item of the queue opens."""
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    item = review_item_get(project=project, item_id=item_id)
    filters = queue_filters(request.GET)
    query = f"?{request.GET.urlencode()}" if request.GET else ""

    def item_url(pk: int) -> str:
        return reverse("review-item", args=[project.id, pk]) + query

    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "comment":
                comment_add(item=item, author=request.user, text=request.POST.get("text", ""))
            else:
                review_act(
                    project=project,
                    item=item,
                    actor=request.user,
                    action=action,
                    expected_version=int(request.POST.get("expected_version", "-1")),
                    value=review_value(project=project, post=request.POST) if action == "resolve" else None,
                )
                messages.success(request, f"Item {item.external_id} {ACTION_DONE.get(action, 'saved')}.")
                _, next_id = queue_neighbours(project=project, item_id=item.id, filters=filters)
                if next_id is not None and next_id != item.id:
                    return redirect(item_url(next_id))
                messages.info(request, "That was the last item of the queue.")
                return redirect(reverse("agreement-items", args=[project.id]) + query)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        except ValueError:
            messages.error(request, "Bad form.")
        return redirect(item_url(item.id))
    detail = review_detail(project=project, item=item)
    classes = list(project.schema_version.classes.all())
    prev_id, next_id = queue_neighbours(project=project, item_id=item.id, filters=filters)
    config = review_page_config(project=project, item=item, detail=detail, classes=classes)
    context = {
        "project": project,
        "detail": detail,
        "item": item,
        "classes": config["classes"],
        "config": config,
        "status": status_words(detail["review"]["status"]),
        "waiting": max(0, item.target - item.slots_taken) if not item.is_gold else 0,
        "next_url": item_url(next_id) if next_id else "",
        "prev_url": item_url(prev_id) if prev_id else "",
        "query": query,
        "answers_layer": project.label_kind == "boxes",
    }
    return render(request, "consistency/review_item.html", context)
