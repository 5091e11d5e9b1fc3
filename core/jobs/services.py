"""Background jobs: create, dispatch after commit, run once.

A job row is the truth about a background task; Celery only carries its id. Running
is idempotent: a finished job is never run again, and a redelivered job (its worker
died) runs again from the start because every runner writes atomically.

Every kind runs through one task (:func:`core.jobs.tasks.job_run`), sent to the queue and with
the time limits its app registered (:mod:`core.jobs.registry`).
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from celery import Task
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils.module_loading import import_string
from kombu.exceptions import OperationalError as BrokerError

from core.errors import Invalid, ServiceUnavailable
from core.jobs.lifecycle import (
    lifecycle_fail,
    lifecycle_fail_unsent,
    lifecycle_guard,
    lifecycle_progress,
    lifecycle_start,
    lifecycle_succeed,
)
from core.jobs.models import Job, JobStatus
from core.jobs.registry import ProgressFn, Runner, job_kind_get, job_runner, job_task

logger = logging.getLogger(__name__)

__all__ = ["ProgressFn", "Runner", "job_create", "job_dispatch", "job_execute", "job_send", "task_send"]

# Fail fast when the broker is down: the caller gets a 503 instead of a hung request.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
BROKER_DOWN = "The task queue is unreachable; nothing was started."


def job_create(
    *,
    kind: str,
    project: models.Model | None,
    created_by: AbstractBaseUser | None,
    params: dict[str, Any] | None = None,
) -> Job:
    if job_kind_get(kind) is None:
        raise Invalid(f"Unknown job kind {kind!r}.")
    # Typed loosely: core can't name labeling's Project (nor the configured user model).
    owner: Any = project
    creator: Any = created_by
    return Job.objects.create(kind=kind, project=owner, created_by=creator, params=params or {})


def task_send(
    *,
    task: "Task[[int], Any]",
    arg: int,
    on_broker_down: Callable[[str], None],
    options: dict[str, Any] | None = None,
) -> None:
    """Publish ``task(arg)`` now. Broker down: ``on_broker_down`` records the failure and the
    caller gets a 503 (never a fake "accepted", never a silent run in the request)."""
    try:
        task.apply_async(args=(arg,), retry=True, retry_policy=PUBLISH_RETRY_POLICY, **(options or {}))
    except BrokerError as exc:
        on_broker_down(BROKER_DOWN)
        raise ServiceUnavailable("The task queue is unreachable right now; retry in a moment.") from exc


def job_send(*, job: Job, task: "Task[[int], Any] | None" = None) -> None:
    """Send the job to the queue of its kind, with its kind's time limits."""
    spec = job_kind_get(job.kind)
    options = (
        {"queue": spec.queue, "soft_time_limit": spec.soft_time_limit, "time_limit": spec.time_limit}
        if spec
        else {}
    )

    def mark_failed(message: str) -> None:
        lifecycle_fail_unsent(model=Job, pk=job.pk, error=message)

    task_send(task=task or job_task(), arg=job.id, on_broker_down=mark_failed, options=options)


def job_dispatch(*, job: Job) -> None:
    """Send the job once the surrounding transaction commits (the worker must see the row)."""
    transaction.on_commit(lambda: job_send(job=job))


def _set_progress(job_id: int) -> ProgressFn:
    def progress(percent: int) -> None:
        lifecycle_progress(model=Job, pk=job_id, percent=percent)

    return progress


def job_execute(*, job_id: int, runner: Runner | None = None) -> Job | None:
    """Run a job's work once (by default its kind's registered runner). Does nothing for a
    missing or already finished job."""
    job = lifecycle_start(model=Job, pk=job_id)
    if job is None:
        logger.warning("job %s does not exist; nothing to run", job_id)
        return None
    if job.status != JobStatus.RUNNING:
        return job
    if runner is None:
        spec = job_kind_get(job.kind)
        runner = job_runner(spec) if spec else None
    if runner is None:
        job.result = None
        return lifecycle_fail(job, error=f"No runner is registered for jobs of kind {job.kind!r}.")
    work = runner
    result, error = lifecycle_guard(
        lambda: work(job, _set_progress(job.id)),
        timeout_error="The job ran past its time limit and was stopped.",
        name=f"job {job.id} ({job.kind})",
    )
    job.result = result
    if error:
        return lifecycle_fail(job, error=error, fields=("result",))
    job.error = ""
    return lifecycle_succeed(job, fields=("result", "error"))


@functools.cache
def task_named(path: str) -> "Task[..., Any]":
    """The Celery task at a dotted path, imported on first use. Services name the tasks they
    send instead of importing the tasks modules, which import those services (the same reason
    the job registry holds runners' paths); tests/test_queues.py resolves every name."""
    task = import_string(path)
    if not isinstance(task, Task):
        raise ImproperlyConfigured(f"{path} is not a Celery task")
    return task
