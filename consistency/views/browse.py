"""The data browser page (reviewers and managers) and its bulk actions (managers)."""

from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from consistency.selectors.browse import PAGE, STATUSES, browse_filters_parse, browse_page, split_names
from consistency.services.bulk import BULK_ACTIONS, items_bulk_act
from core.errors import ApplicationError
from labeling.selectors.projects import (
    LABELER_ROLES,
    MANAGER_ROLES,
    REVIEW_ROLES,
    project_get_for_member,
    project_members,
)


def _cursor(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@require_GET
@login_required
def items_page(request, project_id: int):
    project, role = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    filters = browse_filters_parse(request.GET, project=project)
    if role not in MANAGER_ROLES:  # `_` fields (answers generated with the data…) are for managers
        filters = replace(filters, show_hidden=False)
    page = browse_page(
        project=project,
        filters=filters,
        after=_cursor(request.GET.get("after")),
        before=_cursor(request.GET.get("before")),
    )
    query = request.GET.copy()
    for key in ("after", "before"):
        query.pop(key, None)
    schema = project.schema_version
    context = {
        "project": project,
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "statuses": STATUSES,
        "classes": [c.name for c in schema.classes.all()] if schema else [],
        "labelers": [m.user for m in project_members(project=project) if m.role in LABELER_ROLES],
        "is_manager": role in MANAGER_ROLES,
        "bulk_actions": BULK_ACTIONS,
        "split_names": split_names(filters.split_spec),
        "page_size": PAGE,
    }
    return render(request, "consistency/items.html", context, status=400 if filters.errors else 200)


@require_POST
@login_required
def items_bulk(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=MANAGER_ROLES)
    back = reverse("items", args=[project.id]) + "?" + request.POST.get("query", "")
    try:
        ids = [int(i) for i in request.POST.getlist("item")]
        extra = int(request.POST.get("extra") or 1)
        result = items_bulk_act(
            project=project,
            actor=request.user,
            item_ids=ids,
            action=request.POST.get("action", ""),
            extra=extra,
        )
    except ValueError:
        messages.error(request, "Item ids and the number of answers must be whole numbers.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        label = BULK_ACTIONS[request.POST["action"]]
        skipped = f" ({result['skipped']} skipped: no consensus yet)" if result["skipped"] else ""
        messages.success(request, f"{label}: {result['done']} items{skipped}.")
    return redirect(back)
