"""Celery adapters of core: the one task that runs every job, and the reaper (beat)."""

from celery import shared_task

from core.jobs.reaper import stuck_work_reap
from core.jobs.services import job_execute


# Queue and time limits come with each message, from the kind's registration (job_send).
@shared_task(acks_late=True)
def job_run(job_id: int) -> None:
    """Run a job by its kind's registered runner; a finished job is never run twice."""
    job_execute(job_id=job_id)


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def stuck_work_reap_task() -> dict[str, int]:
    """Periodic (beat): fail jobs and runs whose worker vanished."""
    return stuck_work_reap()
