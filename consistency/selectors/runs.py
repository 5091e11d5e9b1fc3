"""Reads on agreement runs: the latest finished one and the history of headline figures."""

from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

from consistency.models import AgreementRun, Review, ReviewStatus, RunStatus, SchemaChange
from consistency.report import report_from_json
from labeling.models import Annotation, Project


def autorun_enabled() -> bool:
    """Whether runs start by themselves after a quiet period (``consistency.services.autorun``):
    never without a broker (tasks in-process) or with ``CONCORD_AUTORUN_QUIET_SECONDS`` 0."""
    return settings.CONCORD_AUTORUN_QUIET_SECONDS > 0 and not current_app.conf.task_always_eager


def run_latest(*, project: Project, using: str = DEFAULT_DB_ALIAS) -> AgreementRun | None:
    return (
        AgreementRun.objects.using(using)
        .filter(project_id=project.id, status=RunStatus.SUCCEEDED)
        .select_related("schema_version")
        .order_by("-finished_at", "-id")
        .first()
    )


@dataclass
class RunShared:
    run: AgreementRun  # the latest finished run
    report_too: bool  # every input was equal, not only those of the per-item results


def run_to_share(*, run: AgreementRun, digest: str, results_digest: str) -> RunShared | None:
    """The project's latest finished run, when ``run`` may share its per-item results (their
    inputs' digests are equal, ``services.measure.inputs``) and, when all inputs were equal, its
    report: on the same schema version, its results still there. Only the latest: retention
    always keeps it, so its results cannot go while ``run`` is computed."""
    latest = run_latest(project=run.project)
    if latest is None or latest.schema_version_id != run.schema_version_id or latest.results_pruned:
        return None
    if latest.inputs_digest and latest.inputs_digest == digest:
        return RunShared(latest, report_too=True)
    if latest.results_digest and latest.results_digest == results_digest:
        return RunShared(latest, report_too=False)
    return None


def run_active(*, project: Project) -> AgreementRun | None:
    return AgreementRun.objects.filter(
        project=project, status__in=[RunStatus.PENDING, RunStatus.RUNNING]
    ).first()


def run_history(*, project: Project, limit: int = 50) -> list[dict]:
    """Headline alpha with its interval per finished run, oldest first, with its schema version."""
    runs = (
        AgreementRun.objects.filter(project=project, status=RunStatus.SUCCEEDED)
        .select_related("schema_version")
        .order_by("-finished_at", "-id")
        .only(
            "id",
            "number",
            "headline_alpha",
            "report",
            "finished_at",
            "schema_version__number",
            "schema_version__note",
        )[:limit]
    )
    history = []
    for run in reversed(list(runs)):
        low, high = report_from_json(run.report).alpha_ci
        history.append(
            {
                "run_id": run.id,
                "run_number": run.number,
                "schema_version": run.schema_version.number,
                "note": run.schema_version.note,
                "label": f"v{run.schema_version.number} · #{run.number}",
                "value": run.headline_alpha,
                "lo": low,
                "hi": high,
                "finished_at": run.finished_at,
            }
        )
    return history


def run_freshness(*, project: Project, run: AgreementRun | None, using: str = DEFAULT_DB_ALIAS) -> dict:
    """What happened since the run started reading: answers (new or changed), decisions
    (resolutions and "lacks information") and schema changes. The export and the label
    selectors apply all of them at once; a run's figures catch up when the next run lands.
    ``using``: the database the export read, so the counts are of what it applied."""
    answers = Annotation.objects.using(using).filter(item__project_id=project.id, skip_reason="")
    reviews = Review.objects.using(using).filter(
        project_id=project.id, status__in=[ReviewStatus.RESOLVED, ReviewStatus.LACKS_INFORMATION]
    )
    changes = SchemaChange.objects.using(using).filter(project_id=project.id)
    if run is not None:
        since = run.started_at or run.created_at
        answers = answers.filter(created_at__gte=since)
        reviews = reviews.filter(updated_at__gte=since)
        changes = changes.filter(created_at__gte=since)
    counts = {"answers": answers.count(), "decisions": reviews.count(), "schema_changes": changes.count()}
    counts["stale"] = any(counts.values())
    counts["autorun"] = autorun_enabled()
    return counts


def freshness_header(*, run: AgreementRun | None, freshness: dict) -> dict[str, str]:
    """Response headers naming the run behind the consensus and what newer was applied."""
    applied = (  # everything counted here is in the labels already
        f"answers={freshness['answers']}, decisions={freshness['decisions']}, "
        f"schema_changes={freshness['schema_changes']}; applied"
    )
    return {
        "X-Concord-Run": str(run.id) if run else "none",
        "X-Concord-Run-Number": str(run.number) if run else "none",
        "X-Concord-Since-Run": applied,
    }
