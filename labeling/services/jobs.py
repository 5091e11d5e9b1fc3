"""Background jobs: create, dispatch after commit, run once.

A job row is the truth about a background task; Celery only carries its id. Running
is idempotent: a finished job is never run again, and a redelivered job (its worker
died) runs again from the start because every runner writes atomically.
"""

import logging
from collections.abc import Callable

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from labeling.errors import ServiceUnavailable
from labeling.models import Job, JobStatus, Project

logger = logging.getLogger(__name__)

ProgressFn = Callable[[int], None]
Runner = Callable[[Job, ProgressFn], dict]

# Fail fast when the broker is down: the caller gets a 503 instead of a hung request.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}


def job_create(
    *, kind: str, project: Project | None, created_by: AbstractBaseUser | None, params=None
) -> Job:
    return Job.objects.create(kind=kind, project=project, created_by=created_by, params=params or {})


def task_send(*, task: Task, arg: int, on_broker_down: Callable[[str], None]) -> None:
    """Publish ``task(arg)`` now. Broker down: ``on_broker_down`` records the failure and the
    caller gets a 503 (never a fake "accepted", never a silent run in the request)."""
    try:
        task.apply_async(args=[arg], retry=True, retry_policy=PUBLISH_RETRY_POLICY)
    except BrokerError as exc:
        on_broker_down("The task queue is unreachable; nothing was started.")
        raise ServiceUnavailable("The task queue is unreachable right now; retry in a moment.") from exc


def job_send(*, job: Job, task: Task) -> None:
    def mark_failed(message: str) -> None:
        Job.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, error=message, finished_at=timezone.now()
        )

    task_send(task=task, arg=job.id, on_broker_down=mark_failed)


def job_dispatch(*, job: Job, task: Task) -> None:
    """Send the task once the surrounding transaction commits (the worker must see the row)."""
    transaction.on_commit(lambda: job_send(job=job, task=task))


def _set_progress(job_id: int) -> ProgressFn:
    def progress(percent: int) -> None:
        Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
            progress=max(0, min(100, int(percent)))
        )

    return progress


def job_execute(*, job_id: int, runner: Runner) -> Job | None:
    """Run a job's work once. Does nothing for a missing or already finished job."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            logger.warning("job %s does not exist; nothing to run", job_id)
            return None
        if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
            return job
        job.status = JobStatus.RUNNING
        job.started_at = timezone.now()
        job.attempts += 1
        job.save(update_fields=["status", "started_at", "attempts"])

    try:
        result = runner(job, _set_progress(job.id))
    except SoftTimeLimitExceeded:
        return _finish(job, status=JobStatus.FAILED, error="The job ran past its time limit and was stopped.")
    except Exception as exc:
        logger.exception("job %s (%s) failed", job.id, job.kind)
        return _finish(job, status=JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
    return _finish(job, status=JobStatus.SUCCEEDED, result=result)


def _finish(job: Job, *, status: str, result=None, error: str = "") -> Job:
    job.status = status
    job.result = result
    job.error = error
    job.finished_at = timezone.now()
    if status == JobStatus.SUCCEEDED:
        job.progress = 100
    job.save(update_fields=["status", "result", "error", "finished_at", "progress"])
    return job
