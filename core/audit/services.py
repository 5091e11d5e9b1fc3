"""The audit log: who did what, when, with the state before and after. Append-only."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from core.audit.models import AuditEvent


def audit(
    *,
    project: models.Model,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    target: str = "",
    before: Any = None,
    after: Any = None,
    outcome: str = "ok",
) -> AuditEvent:
    """Record an event of ``project`` (a ``labeling.Project``)."""
    # Typed loosely: core can't name labeling's Project (nor the configured user model).
    owner: Any = project
    who: Any = actor
    return AuditEvent.objects.create(
        project=owner,
        actor=who,
        action=action,
        target=target,
        before=before,
        after=after,
        outcome=outcome,
    )
