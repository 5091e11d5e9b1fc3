"""Server-rendered pages: a project's overview (the projects list is consistency.views.overview)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from core.errors import ApplicationError
from core.jobs.models import JobStatus
from labeling.models import JobKind, Role
from labeling.selectors.projects import (
    REVIEW_ROLES,
    project_detail_for_member,
    project_get_for_member,
    project_members,
    project_progress,
)
from labeling.services.stats import project_stats_refresh_request

RECENT_JOBS = 8


@require_GET
@login_required
def project_detail(request, project_id: int):
    project = project_detail_for_member(project_id=project_id, user=request.user, answer_counts=False)
    can_review = project.my_role in REVIEW_ROLES
    context = {
        "project": project,
        "schema": project.current_schema,
        "can_review": can_review,
        "is_manager": project.my_role == Role.MANAGER,
        "stats": project_progress(project=project, item_count=project.item_count) if can_review else None,
        "detailed": _latest_stats(project) if can_review else None,
        "members": project_members(project=project) if can_review else (),
        "jobs": project.jobs.all()[:RECENT_JOBS] if can_review else (),
    }
    return render(request, "labeling/project_detail.html", context)


def _latest_stats(project):
    """The answer counts of the last statistics job (counting every answer is a job at scale)."""
    return (
        project.jobs.filter(kind=JobKind.PROJECT_STATS, status=JobStatus.SUCCEEDED)
        .order_by("-finished_at")
        .only("result", "finished_at")
        .first()
    )


@require_POST
@login_required
def project_stats_refresh(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    try:
        job = project_stats_refresh_request(project=project, requested_by=request.user)
        messages.success(request, f"Statistics refresh started (job #{job.id}).")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    if request.POST.get("back") == "operations":  # the Operations page's own refresh button
        return redirect("operations", project_id=project.id)
    return redirect("project-detail", project_id=project.id)
