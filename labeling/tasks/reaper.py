from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def stuck_work_reap_task() -> dict:
    """Periodic (beat): fail jobs and runs whose worker vanished."""
    from labeling.services.reaper import stuck_work_reap

    return stuck_work_reap()
