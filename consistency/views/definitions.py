"""Label definitions: classes and instructions, suggested changes, what-if previews, history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from consistency.charts import line_chart
from consistency.models import Review
from consistency.selectors.runs import run_history
from consistency.selectors.schema import schema_history
from consistency.selectors.schema_suggestions import schema_suggestions
from consistency.services.schema_changes import schema_change_apply
from core.errors import ApplicationError
from labeling.selectors.projects import REVIEW_ROLES, project_get_for_member


@require_http_methods(["GET", "POST"])
@login_required
def definitions_page(request, project_id: int):
    """Label definitions: classes and instructions, suggested changes, what-if previews, history."""
    project, role = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    preview = None
    kept_rule = {}
    if request.method == "POST":
        if role != "manager":
            messages.error(request, "Only managers change the label schema.")
            return redirect("definitions", project_id=project.id)
        op = request.POST.get("op", "")
        params = _definition_params(request.POST, current=project.schema_version)
        if op == "standardize_transcripts":  # the Find/Replace fields keep what was typed
            kept_rule = params["rules"][0]
        dry_run = request.POST.get("apply") != "1"
        try:
            result = schema_change_apply(
                project=project,
                op=op,
                params=params,
                note=request.POST.get("note", ""),
                actor=request.user,
                dry_run=dry_run,
            )
            if dry_run:
                preview = {"op": op, "params": params, "raw": request.POST, **result}
                before, after = result["before"].get("alpha"), result["after"].get("alpha")
                preview["change"] = None if before is None or after is None else after - before
            else:
                messages.success(
                    request, f"Published schema v{result['schema_version']}; an agreement run started."
                )
                return redirect("definitions", project_id=project.id)
        except ApplicationError as exc:
            messages.error(request, exc.message)
    history = schema_history(project=project)
    for row in history:
        before, after = row["before"].get("alpha"), row["after"].get("alpha")
        row["gain"] = None if before is None or after is None else after - before
        low, high = row["before"].get("alpha_ci") or [None, None]
        row["within_interval"] = bool(low is not None and after is not None and low <= after <= high)
    examples = Review.objects.filter(project=project, is_example=True).select_related("item")
    context = {
        "project": project,
        "role": role,
        "schema": project.schema_version,
        "preview": preview,
        "kept_rule": kept_rule,
        "examples": examples.order_by("-updated_at")[:20],
        "suggestions": schema_suggestions(project=project),
        "history": history,
        "chart": line_chart(run_history(project=project)),
    }
    return render(request, "consistency/definitions.html", context)


def _rewording_params(post, params: dict, *, current) -> dict:
    """A merge or split brings new instructions or keeps them on purpose. The apply form shows
    the current instructions to edit: unchanged text is no new instructions."""
    text = post.get("instructions")
    if text is not None and text.strip() != (current.instructions or "").strip():
        params["instructions"] = text
    if post.get("keep_instructions") == "on":
        params["keep_instructions"] = True
    return params


def _definition_params(post, *, current) -> dict:
    op = post.get("op")
    if op == "merge":
        params = {"classes": [c for c in post.getlist("classes") if c], "into": post.get("into", "")}
        return _rewording_params(post, params, current=current)
    if op == "split":
        # Blank "into" boxes are the optional third name left empty.
        into = [name.strip() for name in post.getlist("into") if name.strip()]
        return _rewording_params(post, {"class": post.get("class", ""), "into": into}, current=current)
    if op == "add_class":
        return {"name": post.get("name", ""), "requeue_split": post.get("requeue_split") == "on"}
    if op == "rename":
        return {"from": post.get("from", ""), "to": post.get("to", "")}
    if op == "edit_instructions":
        return {"instructions": post.get("instructions", "")}
    if op == "standardize_transcripts":
        return {
            "rules": [
                {
                    "pattern": post.get("pattern", ""),
                    "replacement": post.get("replacement", ""),
                    "regex": post.get("regex") == "on",
                    "case_sensitive": post.get("case_sensitive") == "on",
                }
            ]
        }
    return {}
