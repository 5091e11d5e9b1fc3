"""Celery adapters: an id in, a service call. Safe to run twice (the job row decides)."""

from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def project_stats_refresh_task(job_id: int) -> None:
    from labeling.services.jobs import job_execute
    from labeling.services.stats import project_stats_compute

    job_execute(job_id=job_id, runner=project_stats_compute)
