"""A schema version's class names; the history of the project's schema changes. (The current
version is ``labeling.selectors.schema_versions.schema_version_latest``.)"""

from consistency.models import SchemaChange
from labeling.models import LabelSchemaVersion, Project


def class_names(version: LabelSchemaVersion) -> list[str]:
    return [c.name for c in version.classes.all()]


def schema_history(*, project: Project) -> list[dict]:
    """The project's schema changes, oldest first, with the agreement before and after each."""
    changes = SchemaChange.objects.filter(project=project).select_related(
        "from_version", "to_version", "created_by"
    )
    return [
        {
            "op": c.op,
            "params": c.params,
            "note": c.note,
            "from_version": c.from_version.number,
            "to_version": c.to_version.number,
            "before": c.before,
            "after": c.after,
            "requeued_items": c.requeued_items,
            "by": c.created_by.username if c.created_by else None,
            "at": c.created_at,
        }
        for c in changes
    ]
