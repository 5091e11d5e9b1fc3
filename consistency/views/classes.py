"""The settings page's class details (description, colour, hotkey): a preview, then a new
schema version (``services.class_details``)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from consistency.services.class_details import class_details_change
from core.errors import ApplicationError
from labeling.forms import CLASS_FIELDS, class_rows
from labeling.selectors.projects import MANAGER_ROLES, project_get_for_member


@require_POST
@login_required
def class_details(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=MANAGER_ROLES)
    rows = class_rows(request.POST)
    apply = request.POST.get("apply") == "1"
    try:
        result = class_details_change(
            project=project,
            rows=rows,
            note=request.POST.get("note", ""),
            actor=request.user,
            dry_run=not apply,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("project-settings", project_id=project.id)
    if apply:
        messages.success(request, f"Published schema v{result['schema_version']}: {result['summary']}.")
        return redirect("project-settings", project_id=project.id)
    hidden = [(f"class_{f}", row[f]) for row in rows for f in CLASS_FIELDS]
    context = {"project": project, "preview": result, "hidden": hidden}
    return render(request, "consistency/class_details.html", context)
