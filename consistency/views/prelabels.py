"""The manager's pre-label switch on the Model page: show a model's predictions to labelers as
suggestions, with a held-out share shown without them (the Labelers page compares the two)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from labeling.selectors.projects import MANAGER_ROLES, project_get_for_member
from labeling.services.projects import project_update


@require_POST
@login_required
def prelabel_settings(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=MANAGER_ROLES)
    back = f"{reverse('model', args=[project.id])}#prelabels"
    try:
        held_out = float(request.POST.get("held_out_percent", "10"))
    except ValueError:
        held_out = -1.0
    if not 0 <= held_out <= 100:
        messages.error(request, "The held-out share is a percentage from 0 to 100.")
        return redirect(back)
    turned_on = request.POST.get("prelabels") == "on"
    try:
        project_update(
            project=project,
            acting_user=request.user,
            prelabels=turned_on,
            prelabel_holdout=held_out / 100,
            prelabel_model_version=request.POST.get("model_version", "").strip()[:100],
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    if turned_on:
        messages.success(request, f"Pre-labels on: {held_out:g}% of items are shown without the suggestion.")
    else:
        messages.success(request, "Pre-labels off: labelers see no model suggestion.")
    return redirect(back)
