"""Reads on agreement runs: the latest finished one and the history of headline figures."""

from consistency.models import AgreementRun, RunStatus
from labeling.models import Project


def run_latest(*, project: Project) -> AgreementRun | None:
    return (
        AgreementRun.objects.filter(project=project, status=RunStatus.SUCCEEDED)
        .select_related("schema_version")
        .order_by("-finished_at", "-id")
        .first()
    )


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
            "id", "headline_alpha", "report", "finished_at", "schema_version__number", "schema_version__note"
        )[:limit]
    )
    history = []
    for run in reversed(list(runs)):
        overall = (run.report or {}).get("overall") or {}
        ci = overall.get("alpha_ci") or [None, None]
        history.append(
            {
                "run_id": run.id,
                "schema_version": run.schema_version.number,
                "note": run.schema_version.note,
                "label": f"v{run.schema_version.number} · #{run.id}",
                "value": run.headline_alpha,
                "lo": ci[0],
                "hi": ci[1],
                "finished_at": run.finished_at,
            }
        )
    return history
