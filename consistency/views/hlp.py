"""Human-level performance: each labeler's against the others (Labelers), and the model's gap
to it per slice (Model)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from consistency.models import Prediction
from consistency.report import LabelerRow, report_from_json
from consistency.selectors.annotations import slice_fields
from consistency.selectors.operations import answer_time_medians, answers_per_item, labeler_answer_counts
from consistency.selectors.prelabels import prelabel_verdict
from consistency.selectors.runs import run_freshness, run_latest
from consistency.services.predictions import gap_table
from labeling.selectors.projects import REVIEW_ROLES, project_get_for_member


class LabelerPageRow(LabelerRow, total=False):
    skip_rate: float | None
    median_seconds: float | None


@require_GET
@login_required
def labelers_page(request, project_id: int):
    """Each labeler's HLP (leave-one-out and gold), speed, skip rate and confusions, from the latest run."""
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    run = run_latest(project=project)
    report = report_from_json(run.report if run else None)
    speed = labeler_answer_counts(project=project)
    _, medians = answer_time_medians(project=project)
    rows: list[LabelerPageRow] = []
    for row in report.labelers:
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
    prelabels = report.prelabels
    context = {
        "project": project,
        "run": run,
        "rows": rows,
        "hlp": report.hlp,
        "per_item": answers_per_item(project=project),
        "prelabels": prelabels,
        "prelabel_verdict": prelabel_verdict(prelabels) if prelabels else "",
    }
    return render(request, "consistency/labelers.html", context)


@require_GET
@login_required
def model_page(request, project_id: int):
    """The course's prioritization table: model accuracy vs HLP per slice, sorted by potential."""
    project, role = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    run = run_latest(project=project)
    versions = list(
        Prediction.objects.filter(project=project)
        .values_list("model_version", flat=True)
        .distinct()
        .order_by()
    )
    fields = slice_fields(project=project)
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
