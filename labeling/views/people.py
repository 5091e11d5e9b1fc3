"""The People page: members and roles; add, change, remove; staff create accounts; a pipeline
account's token. Secrets (a password, an invite link, a token) are shown once, after the redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from labeling.forms import MemberForm, NewUserForm
from labeling.models import Role
from labeling.selectors.projects import project_get_for_member, project_members
from labeling.services.members import member_add, member_create, membership_remove, pipeline_token_issue
from labeling.services.projects import membership_set

SESSION_SECRET = "people_secret"  # noqa: S105 — a session key's name, not a secret


@login_required
def people_page(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
    secret = request.session.pop(SESSION_SECRET, None)
    members = list(project_members(project=project).select_related("user"))
    context = {
        "project": project,
        "members": members,
        "roles": Role.choices,
        "add_form": MemberForm(),
        "new_user_form": NewUserForm(prefix="new") if request.user.is_staff else None,
        "secret": secret if secret and secret.get("project") == project.id else None,
    }
    return render(request, "labeling/people.html", context)


def _done(request, project_id: int, action, success: str):
    try:
        result = action()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success.format(result=result))
    return redirect("project-people", project_id=project_id)


@require_POST
@login_required
def people_add(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
    form = MemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a username or e-mail and a role.")
        return redirect("project-people", project_id=project.id)
    data = form.cleaned_data

    def add():
        membership, created = member_add(project=project, acting_user=request.user, **data)
        return f"{membership.user.username} {'added as' if created else 'is now'} {membership.role}"

    return _done(request, project.id, add, "{result}.")


@require_POST
@login_required
def people_role(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
    username, role = request.POST.get("username", ""), request.POST.get("role", "")
    if role not in Role.values:
        messages.error(request, f"Unknown role {role!r}.")
        return redirect("project-people", project_id=project.id)

    def change():
        return membership_set(project=project, acting_user=request.user, username=username, role=role)

    return _done(request, project.id, change, f"{username} is now {role}.")


@require_POST
@login_required
def people_remove(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
    username = request.POST.get("username", "")

    def remove():
        return membership_remove(project=project, acting_user=request.user, username=username)

    return _done(request, project.id, remove, f"{username} removed; their answers stay.")


@require_POST
@login_required
def people_create(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
    form = NewUserForm(request.POST, prefix="new")
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(map(str, errors))}" for name, errors in form.errors.items())
        messages.error(request, f"Check the new account: {problems}")
        return redirect("project-people", project_id=project.id)
    try:
        created = member_create(project=project, acting_user=request.user, **form.cleaned_data)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("project-people", project_id=project.id)
    secret = {"project": project.id, "username": created["user"].username}
    if "invite_path" in created:
        secret["invite"] = request.build_absolute_uri(created["invite_path"])
    secret.update({k: created[k] for k in ("password", "token") if k in created})
    request.session[SESSION_SECRET] = secret
    messages.success(
        request, f"Account {created['user'].username} created and added as {form.cleaned_data['role']}."
    )
    return redirect("project-people", project_id=project.id)


@require_POST
@login_required
def people_token(request, project_id: int):
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
    username = request.POST.get("username", "")
    try:
        token = pipeline_token_issue(project=project, acting_user=request.user, username=username)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        request.session[SESSION_SECRET] = {"project": project.id, "username": username, "token": token}
        messages.success(request, f"A new token for {username}; the old one no longer works.")
    return redirect("project-people", project_id=project.id)
