"""The one lifecycle of background work: pending → running → succeeded or failed.

Background jobs (:class:`core.jobs.models.Job`) and every other row a worker computes (an
agreement run) share its fields and transitions. A row is started under a row lock, at most
once at a time; a finished row is never started again; a row is finished with its status, its
reason on failure and its finish time. Rows left ``running`` by a worker that died are failed by
the reaper (:mod:`core.jobs.reaper`) once the hard time limit has passed: models register here
so the reaper finds them without importing their app.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING)
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED)


class Lifecycle(models.Model):
    """Status, progress, attempts, error and times of work done by a worker."""

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0 to 100.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker started it.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


L = TypeVar("L", bound=Lifecycle)
T = TypeVar("T")


def lifecycle_start(*, model: type[L], pk: int) -> L | None:
    """Lock the row and mark it running (one more attempt). None for a missing row; a finished
    row is returned unchanged (its status says so): a redelivered message does nothing."""
    with transaction.atomic():
        row = model._default_manager.select_for_update().filter(pk=pk).first()
        if row is None or row.status in FINISHED:
            return row
        row.status = JobStatus.RUNNING
        row.started_at = timezone.now()
        row.attempts += 1
        row.save(update_fields=["status", "started_at", "attempts"])
    return row


def lifecycle_fail(row: L, *, error: str, fields: tuple[str, ...] = ()) -> L:
    """End the row as failed with its reason (``fields``: more fields the caller set)."""
    row.status = JobStatus.FAILED
    row.error = error
    row.finished_at = timezone.now()
    row.save(update_fields=["status", "error", "finished_at", *fields])
    return row


def lifecycle_succeed(row: L, *, fields: tuple[str, ...] = ()) -> L:
    """End the row as succeeded at 100 % (``fields``: its results, set by the caller)."""
    row.status = JobStatus.SUCCEEDED
    row.progress = 100
    row.finished_at = timezone.now()
    row.save(update_fields=["status", "progress", "finished_at", *fields])
    return row


def lifecycle_fail_unsent(*, model: type[Lifecycle], pk: int, error: str) -> None:
    """Fail a row whose work never reached a worker (the broker was down)."""
    model._default_manager.filter(pk=pk).update(
        status=JobStatus.FAILED, error=error, finished_at=timezone.now()
    )


def lifecycle_progress(*, model: type[Lifecycle], pk: int, percent: int) -> None:
    """Record progress (clamped to 0..100) while the row is running."""
    model._default_manager.filter(pk=pk, status=JobStatus.RUNNING).update(
        progress=max(0, min(100, int(percent)))
    )


def lifecycle_guard(work: Callable[[], T], *, timeout_error: str, name: str) -> tuple[T | None, str]:
    """Run ``work``; return ``(result, "")`` or ``(None, reason)`` when it failed: past the soft
    time limit, or any exception (work must end failed with its reason, never stay running)."""
    try:
        return work(), ""
    except SoftTimeLimitExceeded:
        return None, timeout_error
    except Exception as exc:
        logger.exception("%s failed", name)
        return None, f"{type(exc).__name__}: {exc}"[:2000]


# The rows that follow this lifecycle, by the name the reaper reports them under.
_REAPED: dict[str, type[Lifecycle]] = {}


def lifecycle_register(*, model: type[Lifecycle], name: str) -> None:
    """Let the reaper fail this model's rows whose worker vanished (AppConfig.ready())."""
    _REAPED[name] = model


def lifecycle_models() -> dict[str, type[Lifecycle]]:
    return dict(_REAPED)


def stuck_cutoff(now: datetime) -> datetime:
    """Rows running since before this were started past the hard time limit (plus slack): a live
    worker would have been stopped by Celery's own limit by then."""
    return now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 120)
