from celery import shared_task

from labeling.services.assignments import leases_reclaim


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def leases_reclaim_task() -> int:
    """Periodic (beat): expired reservations give their slots back even in idle projects."""
    total = 0
    while reclaimed := leases_reclaim():
        total += reclaimed
    return total
