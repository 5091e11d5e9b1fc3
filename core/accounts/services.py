"""Accounts: users made by staff, and API tokens (one per user, shown once when made,
revocable by its owner at any time).

A password change or reset also deletes the user's token (core.accounts.signals).
"""

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Permission
from django.db import transaction
from rest_framework.authtoken.models import Token

from core.accounts.models import PasswordChangeRequired
from core.errors import Conflict, PermissionDenied

User = get_user_model()

# The permission that lets a user create projects (a string: core imports no domain app).
ADD_PROJECT = {"codename": "add_project", "content_type__app_label": "labeling"}


@transaction.atomic
def user_create(
    *,
    acting_user: AbstractBaseUser | AnonymousUser,
    username: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    can_create_projects: bool = False,
    must_change_password: bool = True,
) -> tuple[AbstractBaseUser, str]:
    """Create an account (staff only) and return ``(user, token_key)``.

    A password given here was chosen by someone else: with ``must_change_password`` (the
    default) its owner must choose their own at first login, as on the People page."""
    if not (acting_user.is_authenticated and getattr(acting_user, "is_staff", False)):
        raise PermissionDenied("Only administrators can create users.")
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"The username {username!r} is taken.", fields={"username": ["Taken."]})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()  # API-only account (a pipeline): token auth only
    user.save()
    if can_create_projects:
        user.user_permissions.add(Permission.objects.get(**ADD_PROJECT))
    if password and must_change_password:
        PasswordChangeRequired.objects.create(user=user, set_by_id=acting_user.pk)
    token = Token.objects.create(user=user)
    return user, token.key


def _owner(user: AbstractBaseUser | AnonymousUser) -> Any:
    """The user as a token's owner (typed loosely: the user model is configurable)."""
    return user


@transaction.atomic
def api_token_rotate(*, user: AbstractBaseUser | AnonymousUser) -> str:
    """Replace the user's token with a new one (the old key stops working at once)."""
    Token.objects.filter(user=_owner(user)).delete()
    return str(Token.objects.create(user=_owner(user)).key)


def api_token_revoke(*, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Delete the user's token; True when there was one."""
    deleted, _ = Token.objects.filter(user=_owner(user)).delete()
    return bool(deleted)


def api_token_created(*, user: AbstractBaseUser | AnonymousUser) -> datetime | None:
    """When the user's current token was made, or None."""
    created: datetime | None = (
        Token.objects.filter(user=_owner(user)).values_list("created", flat=True).first()
    )
    return created
