from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=3500, time_limit=3600)
def items_import_media_task(job_id: int) -> None:
    """Import stored media uploads; a finished job is never run twice."""
    from labeling.services.items import items_import_media
    from labeling.services.jobs import job_execute

    job_execute(job_id=job_id, runner=items_import_media)
