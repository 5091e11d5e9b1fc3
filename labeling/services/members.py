"""People of a project beyond ``membership_set``: find a user by username or e-mail, remove a
member, create an account with a project role (staff), and give a pipeline account its token."""

import secrets
from typing import cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.accounts.services import api_token_rotate, user_create
from core.audit.services import audit
from core.errors import Conflict, Invalid, NotFound, PermissionDenied
from labeling.models import Assignment, AssignmentStatus, Project, ProjectMembership, Role
from labeling.services.assignments import assignment_release
from labeling.services.projects import membership_set

UserModel = get_user_model()  # the configured user model, for queries


def _require_manager(project: Project, user: User) -> None:
    if not ProjectMembership.objects.filter(project=project, user=user, role=Role.MANAGER).exists():
        raise PermissionDenied("Only the project's managers can change its members.")


def user_find(*, who: str) -> User:
    """The active user whose username is ``who``, else whose e-mail is (case-insensitive)."""
    who = (who or "").strip()
    user = UserModel.objects.filter(username=who, is_active=True).first()
    if user is None and "@" in who:
        matches = list(UserModel.objects.filter(email__iexact=who, is_active=True)[:2])
        if len(matches) > 1:
            raise Invalid(f"Several accounts use {who}; give the username.", fields={"who": ["Ambiguous."]})
        user = matches[0] if matches else None
    if user is None:
        raise Invalid(
            f"No active user with the username or e-mail {who!r}.", fields={"who": ["Unknown user."]}
        )
    return user


def member_add(*, project: Project, acting_user: User, who: str, role: str) -> tuple:
    """Add (or change the role of) the user named by username or e-mail."""
    user = user_find(who=who)
    return membership_set(project=project, acting_user=acting_user, username=user.get_username(), role=role)


@transaction.atomic
def membership_remove(*, project: Project, acting_user: User, username: str) -> None:
    """Take a member out of the project. Their answers stay (they were given); their live
    reservations go back to the pool. The last manager can't be removed."""
    _require_manager(project, acting_user)
    list(ProjectMembership.objects.select_for_update().filter(project=project))
    membership = ProjectMembership.objects.filter(project=project, user__username=username).first()
    if membership is None:
        raise NotFound(f"{username} is not a member of this project.")
    managers = ProjectMembership.objects.filter(project=project, role=Role.MANAGER).count()
    if membership.role == Role.MANAGER and managers == 1:
        raise Conflict("A project needs at least one manager; add another manager first.")
    reserved = Assignment.objects.filter(
        project=project, labeler=membership.user, status=AssignmentStatus.RESERVED
    ).select_related("item")
    for assignment in reserved:
        assignment_release(assignment=assignment)
    membership.delete()
    audit(
        project=project,
        actor=acting_user,
        action="member.remove",
        target=username,
        before={"role": membership.role},
    )


def invite_path(*, user: User) -> str:
    """A link that lets the user set their password once (Django's password-reset token: it
    stops working when the password is set, or after PASSWORD_RESET_TIMEOUT)."""
    from django.urls import reverse

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)])


@transaction.atomic
def member_create(
    *, project: Project, acting_user: User, username: str, email: str, role: str, how: str
) -> dict:
    """Staff create an account and add it to the project. ``how``: ``password`` (a random
    password, returned to be shown once) or ``invite`` (a set-your-password link). A pipeline
    account gets no password at all: its API token is returned (shown once)."""
    _require_manager(project, acting_user)
    if how not in ("password", "invite"):
        raise Invalid("Choose a password or an invite link.", fields={"how": ["password or invite."]})
    password = secrets.token_urlsafe(12) if how == "password" and role != Role.PIPELINE else None
    # Staff see the password: user_create makes its owner choose their own at first login.
    created, token = user_create(
        acting_user=acting_user, username=username.strip(), password=password, email=email
    )
    user = cast(User, created)  # user_create makes the configured user model (get_user_model())
    membership_set(project=project, acting_user=acting_user, username=user.get_username(), role=role)
    if role == Role.PIPELINE:
        return {"user": user, "token": token}
    return (
        {"user": user, "password": password}
        if password
        else {"user": user, "invite_path": invite_path(user=user)}
    )


def pipeline_token_issue(*, project: Project, acting_user: User, username: str) -> str:
    """A new API token for a pipeline account of the project (the old one stops working).

    Only for accounts without a password whose every membership is in a project the acting
    manager manages: a manager can't take over a person's account or reach another project."""
    _require_manager(project, acting_user)
    membership = (
        ProjectMembership.objects.filter(project=project, user__username=username, role=Role.PIPELINE)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise NotFound(f"{username} is not a pipeline member of this project.")
    user = membership.user
    managed = ProjectMembership.objects.filter(user=acting_user, role=Role.MANAGER).values("project")
    elsewhere = ProjectMembership.objects.filter(user=user).exclude(project__in=managed).exists()
    if user.has_usable_password() or user.is_staff or elsewhere:
        raise PermissionDenied(
            f"{username} signs in as a person or belongs to projects you don't manage; "
            "they make their own token on their account page."
        )
    key = api_token_rotate(user=user)
    audit(project=project, actor=acting_user, action="member.token", target=username)
    return key
