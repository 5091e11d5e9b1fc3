"""The audit log: who did what, when, with the state before and after. Append-only."""

from labeling.models import AuditEvent, Project


def audit(*, project: Project, actor, action: str, target: str = "", before=None, after=None, outcome="ok"):
    return AuditEvent.objects.create(
        project=project,
        actor=actor,
        action=action,
        target=target,
        before=before,
        after=after,
        outcome=outcome,
    )
