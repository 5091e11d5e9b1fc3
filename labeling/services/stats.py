"""The project statistics refresh: a small real job that later jobs are modelled on."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Count
from django.db.models.fields.json import KeyTextTransform

from core.jobs.models import Job
from core.jobs.services import ProgressFn, job_create, job_dispatch
from labeling.models import Annotation, Item, JobKind, Project
from labeling.selectors.projects import job_project, project_stats

MAX_SLICE_VALUES = 50

# Sections other apps add to the statistics job's result: name -> a callable taking the project.
# consistency adds "operations" (its Operations page reads it on large projects, where
# aggregating every answer per request takes seconds). Registered from AppConfig.ready(),
# so labeling never imports the apps built on it.
StatsSection = Callable[[Project], dict[str, Any]]
_SECTIONS: dict[str, StatsSection] = {}


def stats_section_register(*, name: str, build: StatsSection) -> None:
    _SECTIONS[name] = build


def project_stats_refresh_request(*, project: Project, requested_by: User) -> Job:
    job = job_create(kind=JobKind.PROJECT_STATS, project=project, created_by=requested_by)
    job_dispatch(job=job)
    return job


def project_stats_compute(job: Job, progress: ProgressFn) -> dict:
    """Progress overall, per labeler and per value of every metadata field (aggregated in SQL)."""
    project = job_project(job=job)
    stats = project_stats(project=project)
    progress(40)
    stats["per_labeler"] = list(
        Annotation.objects.filter(item__project=project, is_current=True)
        .values("labeler__username")
        .annotate(answers=Count("pk"))
        .order_by("-answers", "labeler__username")
    )
    progress(70)
    stats["slices"] = _slice_counts(project)
    progress(85)
    for name, build in _SECTIONS.items():
        stats[name] = build(project)
    return stats


def _slice_counts(project: Project) -> dict:
    """Item counts per metadata field and value (capped per field)."""
    keys_sql = (
        Item.objects.filter(project=project).exclude(metadata={}).values_list("metadata", flat=True)[:1000]
    )
    keys = sorted({key for metadata in keys_sql if isinstance(metadata, dict) for key in metadata})
    slices = {}
    for key in keys[:20]:
        # KeyTextTransform, not an f-string lookup: a key is data, never ORM syntax.
        rows = (
            Item.objects.filter(project=project, metadata__has_key=key)
            .annotate(value=KeyTextTransform(key, "metadata"))
            .values("value")
            .annotate(n=Count("pk"))
            .order_by("-n")[:MAX_SLICE_VALUES]
        )
        slices[key] = {str(row["value"]): row["n"] for row in rows}
    return slices
