"""The agreement dashboard, starting a run, and the operations page."""

from collections.abc import Mapping

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from consistency.charts import heat_class, line_chart
from consistency.report import Confusion, Pairs, report_from_json
from consistency.selectors.operations import operations_summary
from consistency.selectors.runs import run_active, run_freshness, run_history, run_latest
from consistency.services.agreement_runs import agreement_run_request
from core.errors import ApplicationError
from labeling.selectors.projects import MANAGER_ROLES, REVIEW_ROLES, project_get_for_member


def _pair_rows(pairs: Pairs) -> list[dict]:
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


def _confusion_rows(confusion: Confusion) -> list[dict]:
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


def _extra_rows(extra: Mapping[str, float | None]) -> list[dict]:
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
    report = report_from_json(latest.report if latest else None)
    slices = []
    for field, rows in report.slices.items():
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
        "overall": report.overall,
        "counts": report.counts,
        "per_class": report.per_class,
        "pair_rows": _pair_rows(report.pairs) if report.pairs else [],
        "pair_names": report.pairs.get("labelers", []) if report.pairs else [],
        "confusion_rows": _confusion_rows(report.confusion) if report.confusion else [],
        "confusion_classes": report.confusion.get("classes", []) if report.confusion else [],
        "slices": slices,
        "extra": _extra_rows(report.overall.get("extra") or {}),
        "chart": line_chart(history),
        "history": history,
    }
    return render(request, "consistency/agreement.html", context)


@require_POST
@login_required
def agreement_run_start(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    try:
        run = agreement_run_request(project=project, requested_by=request.user)
        messages.success(request, f"Agreement run #{run.number} started.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("agreement-dashboard", project_id=project.id)


@require_GET
@login_required
def operations_page(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=MANAGER_ROLES)
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
