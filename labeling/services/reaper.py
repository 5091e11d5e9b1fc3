"""Jobs and agreement runs whose worker vanished never stay "running" forever."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from labeling.models import Job, JobStatus

MESSAGE = (
    "The worker running this stopped answering (killed or lost) and the time limit passed; start it again."
)


def stuck_work_reap(*, now=None) -> dict:
    """Mark as failed whatever has been running longer than the hard time limit allows.

    A live worker would have been stopped by Celery's own time limit by then, so only work
    whose worker died (and whose message was not redelivered) is touched.
    """
    from consistency.models import AgreementRun, RunStatus

    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 120)
    jobs = Job.objects.filter(status=JobStatus.RUNNING, started_at__lt=cutoff).update(
        status=JobStatus.FAILED, error=MESSAGE, finished_at=now
    )
    runs = AgreementRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=cutoff).update(
        status=RunStatus.FAILED, error=MESSAGE, finished_at=now
    )
    return {"jobs": jobs, "agreement_runs": runs}
