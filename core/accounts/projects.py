"""A user's projects, as the account page and ``/api/me/`` show them.

Projects belong to a domain app, which core does not import: the app registers the function
that lists them (``labeling.apps``). Without one, a user has no projects.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


@dataclass(frozen=True)
class AccountProject:
    id: int
    name: str
    role: str
    role_label: str


Order = Literal["name", "id"]
ProjectsOf = Callable[[AbstractBaseUser | AnonymousUser, Order], list[AccountProject]]
_PROVIDER: list[ProjectsOf] = []


def account_projects_register(provider: ProjectsOf) -> None:
    """Set the function listing a user's projects (from an ``AppConfig.ready()``)."""
    _PROVIDER[:] = [provider]


def account_projects_of(*, user: AbstractBaseUser | AnonymousUser, order: Order) -> list[AccountProject]:
    """The user's projects and roles, by project name or id (one query)."""
    return _PROVIDER[0](user, order) if _PROVIDER else []
