"""Jobs and agreement runs whose worker vanished never stay "running" forever.

Every model following the lifecycle is reaped: Job (core) and whatever the apps registered
(:func:`core.jobs.lifecycle.lifecycle_register`).
"""

from datetime import datetime

from django.utils import timezone

from core.jobs.lifecycle import JobStatus, lifecycle_models, stuck_cutoff

MESSAGE = (
    "The worker running this stopped answering (killed or lost) and the time limit passed; start it again."
)


def stuck_work_reap(*, now: datetime | None = None) -> dict[str, int]:
    """Mark as failed whatever has been running longer than the hard time limit allows.

    A live worker would have been stopped by Celery's own time limit by then, so only work
    whose worker died (and whose message was not redelivered) is touched.
    """
    now = now or timezone.now()
    cutoff = stuck_cutoff(now)
    return {
        name: model._default_manager.filter(status=JobStatus.RUNNING, started_at__lt=cutoff).update(
            status=JobStatus.FAILED, error=MESSAGE, finished_at=now
        )
        for name, model in lifecycle_models().items()
    }
