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
