"""The project's current published schema version and its classes; the history of its changes."""

from consistency.models import SchemaChange
from labeling.models import LabelSchemaVersion, Project
from labeling.selectors.schema_versions import schema_version_latest


def schema_version_current(project: Project) -> LabelSchemaVersion:
    """The newest published version, with its classes prefetched."""
    return schema_version_latest(project=project, with_classes=True)


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
