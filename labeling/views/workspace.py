"""The labeling workspace: one page per project; items come and go over the REST API.

The page is rendered once; the JavaScript in ``static/js/workspace/`` asks for the next item,
submits answers (each submit returns the next item) and never reloads the page. Its
configuration travels in a ``json_script`` block (data, not script: the CSP forbids inline script).
"""

from collections.abc import Mapping, Sequence

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from labeling.answers import answer_choice_mode
from labeling.models import LabelSchemaVersion, SkipReason
from labeling.models.projects import LABELING_ROLES
from labeling.selectors.projects import project_get_for_member
from labeling.selectors.schema_versions import schema_version_latest
from labeling.services.projects import RESERVED_KEYS

DIGITS = "1234567890"


def class_keys(names: Sequence[str], hotkeys: Mapping[str, str] | None = None) -> dict[str, str]:
    """The keyboard key of each class.

    A hotkey the manager gave a class wins. A class whose name is one character ("1", "0", "y")
    is chosen with that very key, so a
    "same person?" schema ``1 / 0 / borderline`` reads 1 → "1", 0 → "0", 2 → "borderline".
    The other classes take the free digits in order (1…9, then 0); past ten classes the rest
    are chosen with the mouse or Tab.
    """
    keys: dict[str, str] = {n: k for n, k in (hotkeys or {}).items() if k and n in names}
    for name in names:
        if name in keys:
            continue
        key = name.lower()
        if len(name) == 1 and key.isalnum() and key not in RESERVED_KEYS and key not in keys.values():
            keys[name] = key
    free = iter(d for d in DIGITS if d not in keys.values())
    for name in names:
        if name not in keys:
            keys[name] = next(free, "")
    return keys


def _current_schema(project) -> LabelSchemaVersion | None:
    """The latest published schema version with its classes (one query each)."""
    return schema_version_latest(project=project, with_classes=True)


@require_GET
@login_required
def workspace(request, project_id: int):
    # Membership check only: the project list's counts would cost a scan on a big project.
    project, role = project_get_for_member(project_id=project_id, user=request.user, roles=LABELING_ROLES)
    schema = _current_schema(project)
    label_classes = list(schema.classes.all()) if schema else []
    keys = class_keys([c.name for c in label_classes], {c.name: c.hotkey for c in label_classes})
    classes = [
        {"name": c.name, "color": c.color, "key": keys[c.name], "description": c.description}
        for c in label_classes
    ]
    kind = project.label_kind
    config = {
        "projectId": project.id,
        "dataType": project.data_type,
        "labelKind": kind,
        "choiceMode": answer_choice_mode(kind),
        "classes": classes,
        "skipReasons": [{"value": v, "label": label} for v, label in SkipReason.choices],
        "transcriptRules": (schema.transcript_rules or []) if schema else [],
        "csrfCookieName": settings.CSRF_COOKIE_NAME,
        "urls": {
            "next": reverse("api-next-item", args=[project.id]),
            "progress": reverse("api-my-progress", args=[project.id]),
            "submit": reverse("api-item-annotations", args=[0]).replace("/0/", "/{id}/"),
            "myAnswer": reverse("api-my-answer", args=[0]).replace("/0/", "/{id}/"),
            "project": reverse("project-detail", args=[project.id]),
            "login": f"{reverse('login')}?next={request.path}",
        },
    }
    context = {
        "project": project,
        "role": role,
        "schema": schema,
        "classes": classes,
        "described_classes": [c for c in classes if c["description"]],
        "skip_reasons": config["skipReasons"],
        "transcript_rules": config["transcriptRules"],
        "config": config,
    }
    return render(request, "labeling/workspace.html", context)
