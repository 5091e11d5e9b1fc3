"""Manager pages: a new project, a project's settings, and the markdown preview they share."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import ApplicationError, PermissionDenied
from labeling.forms import ALARM_LABELS, NewProjectForm, SettingsForm, class_rows
from labeling.markdown import render_markdown
from labeling.models import LabelKind, Role
from labeling.selectors.projects import project_detail_for_member, project_get_for_member
from labeling.services.projects import (
    ALLOWED_LABEL_KINDS,
    PALETTE,
    project_create,
    project_update,
    user_can_create_projects,
)

BLANK_CLASS_ROWS = 4
MAX_PREVIEW_CHARS = 100_000


def _blank_rows(start: int, count: int) -> list[dict]:
    return [
        {"name": "", "description": "", "color": PALETTE[i % len(PALETTE)], "hotkey": ""}
        for i in range(start, start + count)
    ]


def _field_errors(form, exc: ApplicationError) -> None:
    """A service's refusal on the form: its message on top, its field problems by the fields."""
    form.add_error(None, exc.message)
    for name, problems in exc.fields.items():
        if name in form.fields:
            form.add_error(name, "; ".join(map(str, problems)))


@login_required
def project_new(request):
    """Create a project: data type, label kind, classes with their details, instructions, k."""
    if not user_can_create_projects(request.user):
        raise PermissionDenied("Only staff or users allowed to create projects can create one.")
    form = NewProjectForm(request.POST or None)
    rows = class_rows(request.POST) if request.method == "POST" else []
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(created_by=request.user, classes=rows, **form.cleaned_data)
        except ApplicationError as exc:
            _field_errors(form, exc)
        else:
            messages.success(request, f"Project “{project.name}” created. Add people, then import items.")
            return redirect("project-settings", project_id=project.id)
    context = {
        "form": form,
        "rows": rows + _blank_rows(len(rows), max(1, BLANK_CLASS_ROWS - len(rows))),
        "allowed_kinds": {k: sorted(v) for k, v in ALLOWED_LABEL_KINDS.items()},
    }
    return render(request, "labeling/project_new.html", context, status=400 if form.errors else 200)


@login_required
def project_settings(request, project_id: int):
    """Change settings (``project_update``); the classes' details change through a schema
    version (the form posts to the class-details preview)."""
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
    form = SettingsForm(request.POST or None, initial=SettingsForm.initial_for(project))
    if request.method == "POST" and form.is_valid():
        try:
            project_update(project=project, acting_user=request.user, **form.changes())
        except ApplicationError as exc:
            _field_errors(form, exc)
        else:
            messages.success(request, "Settings saved.")
            return redirect("project-settings", project_id=project.id)
    detail = project_detail_for_member(project_id=project.id, user=request.user, answer_counts=False)
    context = {
        "project": detail,
        "schema": detail.current_schema,
        "form": form,
        "alarm_fields": [form[name] for name in ALARM_LABELS],
        "has_classes": project.label_kind != LabelKind.TRANSCRIPTION,
    }
    return render(request, "labeling/project_settings.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
def markdown_preview(request):
    """The instructions as labelers will see them: sanitized HTML for the live preview."""
    text = request.POST.get("text", "")[:MAX_PREVIEW_CHARS]
    return HttpResponse(render_markdown(text), content_type="text/html; charset=utf-8")
