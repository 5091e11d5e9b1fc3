"""Manager and reviewer pages: the agreement dashboard."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consistency.charts import heat_class, line_chart
from consistency.selectors.labels import rows_with_labels
from consistency.selectors.runs import run_active, run_freshness, run_history, run_latest
from consistency.services.agreement_runs import agreement_run_request
from consistency.services.measure import RunParams
from core.errors import ApplicationError
from labeling.selectors.projects import REVIEW_ROLES, project_get_for_member


def _pair_rows(pairs: dict) -> list[dict]:
    names = pairs.get("labelers", [])
    rows = []
    for i, name in enumerate(names):
        cells = []
        for j, _ in enumerate(names):
            value = pairs["kappa"][i][j] if i != j else None
            support = pairs["support"][i][j]
            cells.append(
                {
                    "value": value,
                    "support": support,
                    "css": heat_class(value, low=0.0).replace("heat", "good") if i != j else "heat-self",
                }
            )
        rows.append({"name": name, "cells": cells})
    return rows


def _confusion_rows(confusion: dict) -> list[dict]:
    classes = confusion.get("classes", [])
    counts = confusion.get("counts", [])
    peak = max([counts[i][j] for i in range(len(classes)) for j in range(len(classes)) if i != j] or [1]) or 1
    rows = []
    for i, name in enumerate(classes):
        cells = [
            {
                "other": other,
                "count": counts[i][j],
                "css": "heat-self" if i == j else heat_class(counts[i][j] / peak),
                "diagonal": i == j,
            }
            for j, other in enumerate(classes)
        ]
        rows.append({"name": name, "cells": cells})
    return rows


def _extra_rows(extra: dict) -> list[dict]:
    """The kind-specific figures (boxes, transcripts), each with the term that explains it."""
    rows = []
    for name, value in extra.items():
        term = "iou" if "IoU" in name else "wer" if "WER" in name or "CER" in name else None
        rows.append({"name": name, "value": value, "term": term})
    return rows


@require_GET
@login_required
def agreement_dashboard(request, project_id: int):
    project, role = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    latest = run_latest(project=project)
    history = run_history(project=project)
    report = (latest.report if latest else None) or {}
    slices = []
    for field, rows in (report.get("slices") or {}).items():
        for row in rows:
            slices.append({"field": field, **row})
    slices.sort(key=lambda r: (r.get("alpha") is None, r.get("alpha") if r.get("alpha") is not None else 0))
    context = {
        "project": project,
        "role": role,
        "run": latest,
        "freshness": run_freshness(project=project, run=latest),
        "active": run_active(project=project),
        "report": report,
        "overall": report.get("overall") or {},
        "counts": report.get("counts") or {},
        "per_class": report.get("per_class") or [],
        "pair_rows": _pair_rows(report["pairs"]) if report.get("pairs") else [],
        "pair_names": (report.get("pairs") or {}).get("labelers", []),
        "confusion_rows": _confusion_rows(report["confusion"]) if report.get("confusion") else [],
        "confusion_classes": (report.get("confusion") or {}).get("classes", []),
        "slices": slices,
        "extra": _extra_rows((report.get("overall") or {}).get("extra") or {}),
        "chart": line_chart(history),
        "history": history,
    }
    return render(request, "consistency/agreement.html", context)


@require_POST
@login_required
def agreement_run_start(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    try:
        run = agreement_run_request(
            project=project, requested_by=request.user, params=RunParams(consensus=project.consensus_method)
        )
        messages.success(request, f"Agreement run #{run.number} started.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("agreement-dashboard", project_id=project.id)


ITEMS_PAGE = 50


@require_GET
@login_required
def review_queue(request, project_id: int):
    """The disagreement queue: filters by class pair, slice, labeler, status, model disagreement."""
    from consistency.api.reviews import parse_queue_filters
    from consistency.services.reviews import disagreement_queue

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
    from consistency.review_page import (
        ACTION_DONE,
        queue_filters,
        queue_neighbours,
        review_page_config,
        review_value,
        status_words,
    )
    from consistency.selectors.reviews import review_detail, review_item_get
    from consistency.services.reviews import comment_add, review_act

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


@require_http_methods(["GET", "POST"])
@login_required
def definitions_page(request, project_id: int):
    """Label definitions: classes and instructions, suggested changes, what-if previews, history."""
    from consistency.api.schema_changes import schema_history
    from consistency.selectors.schema_suggestions import schema_suggestions
    from consistency.services.schema_changes import schema_change_apply

    project, role = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    preview = None
    kept_rule = {}
    if request.method == "POST":
        if role != "manager":
            messages.error(request, "Only managers change the label schema.")
            return redirect("definitions", project_id=project.id)
        op = request.POST.get("op", "")
        params = _definition_params(request.POST, current=project.schema_version)
        if op == "standardize_transcripts":  # the Find/Replace fields keep what was typed
            kept_rule = params["rules"][0]
        dry_run = request.POST.get("apply") != "1"
        try:
            result = schema_change_apply(
                project=project,
                op=op,
                params=params,
                note=request.POST.get("note", ""),
                actor=request.user,
                dry_run=dry_run,
            )
            if dry_run:
                preview = {"op": op, "params": params, "raw": request.POST, **result}
                before, after = result["before"].get("alpha"), result["after"].get("alpha")
                preview["change"] = None if before is None or after is None else after - before
            else:
                messages.success(
                    request, f"Published schema v{result['schema_version']}; an agreement run started."
                )
                return redirect("definitions", project_id=project.id)
        except ApplicationError as exc:
            messages.error(request, exc.message)
    history = schema_history(project=project)
    for row in history:
        before, after = row["before"].get("alpha"), row["after"].get("alpha")
        row["gain"] = None if before is None or after is None else after - before
        low, high = row["before"].get("alpha_ci") or [None, None]
        row["within_interval"] = bool(low is not None and after is not None and low <= after <= high)
    from consistency.models import Review

    examples = Review.objects.filter(project=project, is_example=True).select_related("item")
    context = {
        "project": project,
        "role": role,
        "schema": project.schema_version,
        "preview": preview,
        "kept_rule": kept_rule,
        "examples": examples.order_by("-updated_at")[:20],
        "suggestions": schema_suggestions(project=project),
        "history": history,
        "chart": line_chart(run_history(project=project)),
    }
    return render(request, "consistency/definitions.html", context)


def _rewording_params(post, params: dict, *, current) -> dict:
    """A merge or split brings new instructions or keeps them on purpose. The apply form shows
    the current instructions to edit: unchanged text is no new instructions."""
    text = post.get("instructions")
    if text is not None and text.strip() != (current.instructions or "").strip():
        params["instructions"] = text
    if post.get("keep_instructions") == "on":
        params["keep_instructions"] = True
    return params


def _definition_params(post, *, current) -> dict:
    op = post.get("op")
    if op == "merge":
        params = {"classes": [c for c in post.getlist("classes") if c], "into": post.get("into", "")}
        return _rewording_params(post, params, current=current)
    if op == "split":
        # Blank "into" boxes are the optional third name left empty.
        into = [name.strip() for name in post.getlist("into") if name.strip()]
        return _rewording_params(post, {"class": post.get("class", ""), "into": into}, current=current)
    if op == "add_class":
        return {"name": post.get("name", ""), "requeue_split": post.get("requeue_split") == "on"}
    if op == "rename":
        return {"from": post.get("from", ""), "to": post.get("to", "")}
    if op == "edit_instructions":
        return {"instructions": post.get("instructions", "")}
    if op == "standardize_transcripts":
        return {
            "rules": [
                {
                    "pattern": post.get("pattern", ""),
                    "replacement": post.get("replacement", ""),
                    "regex": post.get("regex") == "on",
                    "case_sensitive": post.get("case_sensitive") == "on",
                }
            ]
        }
    return {}


@require_GET
@login_required
def labelers_page(request, project_id: int):
    """Each labeler's HLP (leave-one-out and gold), speed, skip rate and confusions, from the latest run."""
    from django.db.models import Count, Q

    from labeling.models import Annotation

    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    run = run_latest(project=project)
    report = (run.report if run else None) or {}
    speed = {
        row["labeler_id"]: row
        for row in Annotation.objects.filter(item__project=project, is_current=True)
        .values("labeler_id")
        .annotate(total=Count("pk"), skipped=Count("pk", filter=~Q(skip_reason="")))
    }
    from consistency.selectors.operations import answer_time_medians

    _, medians = answer_time_medians(project=project)
    rows = []
    for row in report.get("labelers", []):
        stats = speed.get(row["labeler_id"], {})
        total = stats.get("total", 0)
        rows.append(
            {
                **row,
                "skip_rate": (stats.get("skipped", 0) / total) if total else None,
                "median_seconds": medians.get(row["labeler_id"]),
            }
        )
    rows.sort(key=lambda r: (r.get("loo_rate") is None, -(r.get("loo_rate") or 0)))
    from consistency.selectors.operations import answers_per_item
    from consistency.selectors.prelabels import prelabel_verdict

    prelabels = report.get("prelabels")
    context = {
        "project": project,
        "run": run,
        "rows": rows,
        "hlp": report.get("hlp") or {},
        "per_item": answers_per_item(project=project),
        "prelabels": prelabels,
        "prelabel_verdict": prelabel_verdict(prelabels) if prelabels else "",
    }
    return render(request, "consistency/labelers.html", context)


@require_GET
@login_required
def model_page(request, project_id: int):
    """The course's prioritization table: model accuracy vs HLP per slice, sorted by potential."""
    from consistency.models import Prediction
    from consistency.selectors.annotations import item_slices
    from consistency.services.predictions import gap_table

    project, role = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    run = run_latest(project=project)
    versions = list(
        Prediction.objects.filter(project=project)
        .values_list("model_version", flat=True)
        .distinct()
        .order_by()
    )
    fields = list(item_slices(project=project).columns)
    version = request.GET.get("version") or (versions[-1] if versions else "")
    field = request.GET.get("field") or (fields[0] if fields else "")
    table, error = None, ""
    if run is not None and version in versions:
        try:
            table = gap_table(project=project, run=run, model_version=version, field=field)
        except ValueError as exc:
            error = str(exc)
    context = {
        "project": project,
        "run": run,
        "freshness": run_freshness(project=project, run=run),
        "versions": versions,
        "version": version,
        "fields": fields,
        "field": field,
        "table": table,
        "error": error,
        "can_manage": role == "manager",
    }
    return render(request, "consistency/model.html", context)


@require_GET
@login_required
def operations_page(request, project_id: int):
    from consistency.selectors.operations import operations_summary
    from labeling.models import Role

    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
    summary = operations_summary(project=project)
    return render(
        request,
        "consistency/operations.html",
        {
            "project": project,
            "ops": summary,
            "chart": line_chart(summary["history"]),
            "per_item": summary["per_item"],
        },
    )
