"""Publishing a schema version: the one writer of ``LabelSchemaVersion`` and ``LabelClass``
after a project's first version.

A published version and its classes never change, so every change of the label schema (a merge,
a split, new class details, new instructions, transcript rules) publishes the next version, with
the mapping that says how answers given under its parent read under it. Callers (consistency's
schema changes and class details) decide what the new version holds; this module writes it.
"""

from collections.abc import Mapping, Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.audit.services import audit
from core.errors import Conflict
from labeling.models import LabelClass, LabelSchemaVersion, Project

CLASS_FIELDS = ("description", "color", "hotkey")
DEFAULT_COLOR = "#868e96"


def _class_names(version: LabelSchemaVersion) -> list[str]:
    return list(version.classes.order_by("position", "id").values_list("name", flat=True))


@transaction.atomic
def schema_version_publish(
    *,
    project: Project,
    classes: Sequence[Mapping],
    mapping: Mapping[str, str | None],
    note: str,
    actor: User,
    action: str,
    instructions: str | None = None,
    transcript_rules: list | None = None,
    expected_parent_id: int | None = None,
    audit_after: Mapping | None = None,
) -> tuple[LabelSchemaVersion, LabelSchemaVersion]:
    """Publish the version after the current one and return ``(parent, new version)``.

    ``classes``: ``{name, description, color, hotkey}`` rows in their new order (a missing
    detail gets the default; ``position`` defaults to the row's index). ``instructions`` and
    ``transcript_rules`` left as None are the parent's. ``expected_parent_id``: the version the
    caller planned against; if another change was published meanwhile, 409 and nothing is
    written (the caller's plan read classes that are no longer current). The change is audited
    as ``action``, with the class names before and ``audit_after``.
    """
    # The lock serializes publishers of one project: the next number is taken once.
    parent = LabelSchemaVersion.objects.select_for_update().published(project).first()
    if parent is None:  # project_create publishes version 1: only a broken project has none
        raise LabelSchemaVersion.DoesNotExist(f"Project {project.pk} has no published schema version.")
    if expected_parent_id is not None and parent.id != expected_parent_id:
        raise Conflict(
            f"The schema changed meanwhile (now v{parent.number}); preview the change again.",
            fields={"schema_version": [f"Now v{parent.number}."]},
        )
    version = LabelSchemaVersion.objects.create(
        project=project,
        number=parent.number + 1,
        parent=parent,
        instructions=parent.instructions if instructions is None else instructions,
        transcript_rules=parent.transcript_rules if transcript_rules is None else transcript_rules,
        mapping=dict(mapping),
        note=note,
        created_by=actor,
        published_at=timezone.now(),
    )
    LabelClass.objects.bulk_create(
        LabelClass(
            schema_version=version,
            name=row["name"],
            position=row.get("position", index),
            description=row.get("description") or "",
            color=row.get("color") or DEFAULT_COLOR,
            hotkey=row.get("hotkey") or "",
        )
        for index, row in enumerate(classes)
    )
    audit(
        project=project,
        actor=actor,
        action=action,
        target=f"v{parent.number} → v{version.number}",
        before={"classes": _class_names(parent)},
        after=dict(audit_after or {}),
    )
    return parent, version
