"""The labeling workspace: one page per project; items come and go over the REST API."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from labeling.models import SkipReason
from labeling.selectors.projects import project_detail_for_member

KEYS = "123456789"


@require_GET
@login_required
def workspace(request, project_id: int):
    project = project_detail_for_member(project_id=project_id, user=request.user)
    schema = project.current_schema
    classes = [
        {
            "name": c.name,
            "color": c.color,
            "key": KEYS[i] if i < len(KEYS) else "",
            "description": c.description,
        }
        for i, c in enumerate(schema.classes.all())
    ]
    config = {
        "projectId": project.id,
        "dataType": project.data_type,
        "labelKind": project.label_kind,
        "classes": classes,
        "skipReasons": [{"value": v, "label": label} for v, label in SkipReason.choices],
        "transcriptRules": schema.transcript_rules,
        "urls": {
            "next": reverse("api-next-item", args=[project.id]),
            "progress": reverse("api-my-progress", args=[project.id]),
            "submit": reverse("api-item-annotations", args=[0]).replace("/0/", "/{id}/"),
        },
    }
    context = {"project": project, "schema": schema, "classes": classes, "config": config}
    return render(request, "labeling/workspace.html", context)
