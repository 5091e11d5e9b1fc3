"""The projects list with each project's progress, agreement and open disagreements, and the
Operations page's alarm thresholds form."""

from typing import TYPE_CHECKING, TypedDict, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from consistency.selectors.overview import projects_overview
from core.errors import ApplicationError
from labeling.forms import AlarmsForm
from labeling.selectors.projects import (
    MANAGER_ROLES,
    REVIEW_ROLES,
    project_get_for_member,
    project_list_for_page,
)
from labeling.services.projects import project_update, user_can_create_projects

if TYPE_CHECKING:  # django-stubs-ext is a dev dependency; the cast below names it as a string
    from django_stubs_ext import WithAnnotations

    from labeling.models import Project


class _Role(TypedDict):
    my_role: str  # annotated by project_list_for_page (the caller's membership role)


@require_GET
@login_required
def project_list(request):
    projects = cast("list[WithAnnotations[Project, _Role]]", project_list_for_page(user=request.user))
    overview = projects_overview(projects=[p for p in projects if p.my_role in REVIEW_ROLES])
    rows = [{"project": p, "overview": overview.get(p.id)} for p in projects]
    context = {"projects": projects, "rows": rows, "can_create": user_can_create_projects(request.user)}
    return render(request, "labeling/project_list.html", context)


@require_POST
@login_required
def alarms_update(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=MANAGER_ROLES)
    form = AlarmsForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(
            f"{name.replace('_', ' ')}: {' '.join(str(m) for m in e)}" for name, e in form.errors.items()
        )
        messages.error(request, f"Alarms not saved: {problems}")
        return redirect("operations", project_id=project.id)
    try:
        project_update(project=project, acting_user=request.user, alarms=dict(form.cleaned_data))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Alarm thresholds saved.")
    return redirect("operations", project_id=project.id)
