"""The project's current published schema version and its classes."""

from labeling.models import LabelSchemaVersion, Project
from labeling.selectors.schema_versions import schema_version_latest


def schema_version_current(project: Project) -> LabelSchemaVersion:
    """The newest published version, with its classes prefetched."""
    return schema_version_latest(project=project, with_classes=True)


def class_names(version: LabelSchemaVersion) -> list[str]:
    return [c.name for c in version.classes.all()]
