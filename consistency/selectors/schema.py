"""The project's current published schema version and its classes."""

from labeling.models import LabelSchemaVersion, Project


def schema_version_current(project: Project) -> LabelSchemaVersion:
    """The newest published version, with its classes prefetched."""
    return (
        LabelSchemaVersion.objects.filter(project=project, published_at__isnull=False)
        .prefetch_related("classes")
        .order_by("-number")
        .first()
    )


def class_names(version: LabelSchemaVersion) -> list[str]:
    return [c.name for c in version.classes.all()]
