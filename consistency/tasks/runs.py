from celery import shared_task

from consistency.services.agreement_runs import (
    agreement_run_compute,
    agreement_run_debounced,
    agreement_runs_start_due,
)
from consistency.services.run_retention import agreement_runs_prune, agreement_runs_prune_due


@shared_task(acks_late=True, soft_time_limit=1700, time_limit=1800)
def agreement_run_compute_task(run_id: int) -> None:
    """Compute one agreement run; does nothing unless the run is pending or was cut off mid-way."""
    agreement_run_compute(run_id=run_id)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def agreement_runs_auto_task() -> list[int]:
    """Periodic (beat): start runs where enough new answers arrived."""
    return agreement_runs_start_due()


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def agreement_run_debounced_task(project_id: int) -> None:
    """Start the project's automatic run once it has been quiet (see services.autorun)."""
    agreement_run_debounced(project_id=project_id)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def agreement_runs_prune_task(project_id: int) -> list[int]:
    """After a run succeeds: remove older runs' per-item results (a second call is a no-op)."""
    return agreement_runs_prune(project_id=project_id)


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def agreement_runs_prune_due_task() -> list[int]:
    """Periodic (beat): the prunes a grace period or a lock held back, in every project."""
    return agreement_runs_prune_due()
