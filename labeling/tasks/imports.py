from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=3500, time_limit=3600)
def items_import_task(job_id: int) -> None:
    """Import stored uploads (records or media); a finished job is never run twice."""
    from labeling.services.items import items_import_run
    from labeling.services.jobs import job_execute

    job_execute(job_id=job_id, runner=items_import_run)


@shared_task(acks_late=True, soft_time_limit=3500, time_limit=3600)
def annotations_import_task(job_id: int) -> None:
    """Import a stored file of existing labels; a finished job is never run twice."""
    from labeling.services.annotation_import import annotations_import_run
    from labeling.services.jobs import job_execute

    job_execute(job_id=job_id, runner=annotations_import_run)
