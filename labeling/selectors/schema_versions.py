"""The project's current schema version: the newest published one (the one place that says so;
``LabelSchemaVersion.objects.published`` is the query, for subqueries too)."""

from labeling.models import LabelSchemaVersion, Project


def schema_version_latest(*, project: Project | int, with_classes: bool = False) -> LabelSchemaVersion | None:
    """The newest published version of ``project`` (a project or its id); its classes
    prefetched with ``with_classes`` (one more query). None only for a project being created."""
    versions = LabelSchemaVersion.objects.published(project)
    if with_classes:
        versions = versions.prefetch_related("classes")
    return versions.first()


def schema_version_current(*, project: Project | int, with_classes: bool = False) -> LabelSchemaVersion:
    """``schema_version_latest`` for callers that hold a created project, which always has a
    published version (``project_create`` publishes version 1 in its transaction): the same one
    query, and ``LabelSchemaVersion.DoesNotExist`` instead of None if that invariant is broken."""
    version = schema_version_latest(project=project, with_classes=with_classes)
    if version is None:
        project_id = project if isinstance(project, int) else project.pk
        raise LabelSchemaVersion.DoesNotExist(f"Project {project_id} has no published schema version.")
    return version
