"""Automatic agreement runs: after a resolution, a schema change or enough new answers, one
run starts on a worker once the project has been quiet for ``CONCORD_AUTORUN_QUIET_SECONDS``.

Debounced with Celery's ``countdown`` and two Redis keys per project: ``due`` (when the quiet
period ends; every change pushes it back) and ``queued`` (set while a debounce task is waiting,
so a burst of changes sends one message, not one per change). When the task fires early it
waits again for the rest; when a run is already in flight it checks back after the quiet period.
At most one run per project is in flight: the database's unique constraint on active runs
guarantees it whatever the timing.

Without a broker (``make run`` on SQLite, tasks in-process) nothing is scheduled: the pages
say how many answers and decisions are newer than the run, and "Run agreement now" catches up.
"""

import logging
import time
from typing import cast

import redis
from django.conf import settings
from django.db import transaction

from consistency.selectors.runs import autorun_enabled
from core.jobs.services import task_named

logger = logging.getLogger(__name__)

# Named, not imported: the tasks modules import the services (docs/architecture.md).
DEBOUNCE_TASK = "consistency.tasks.runs.agreement_run_debounced_task"


def _keys(project_id: int) -> tuple[str, str]:
    return f"concord:autorun:{project_id}:due", f"concord:autorun:{project_id}:queued"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def agreement_run_soon(*, project_id: int) -> None:
    """Ask for a run once the project is quiet; call after the change commits."""
    if not autorun_enabled():
        return
    quiet = settings.CONCORD_AUTORUN_QUIET_SECONDS
    due_key, queued_key = _keys(project_id)
    try:
        client = _redis()
        client.set(due_key, time.time() + quiet, ex=quiet * 10 + 3600)
        if client.set(queued_key, 1, nx=True, ex=quiet * 10 + 3600):
            task_named(DEBOUNCE_TASK).apply_async(args=(project_id,), countdown=quiet)
    except (redis.RedisError, OSError):
        # The change itself is stored; the pages say the figures are behind until a run.
        logger.warning("could not schedule the automatic run of project %s", project_id)


def agreement_run_soon_on_commit(*, project_id: int) -> None:
    transaction.on_commit(lambda: agreement_run_soon(project_id=project_id))


def autorun_claim(*, project_id: int) -> bool:
    """The debounce task's first step: True when the quiet period is over (from here on, a new
    change queues a new debounce task); otherwise the task is sent again for the rest of it."""
    due_key, queued_key = _keys(project_id)
    client = _redis()
    # redis-py types a synchronous client's replies as ``Awaitable | Any`` (one stub for both).
    due = cast(bytes | None, client.get(due_key))
    left = float(due or 0) - time.time()
    if left > 0.05:
        task_named(DEBOUNCE_TASK).apply_async(args=(project_id,), countdown=left)
        return False
    client.delete(queued_key)
    return True


def autorun_forget(*, project_id: int) -> None:
    """The project is gone: nothing left to debounce."""
    _redis().delete(*_keys(project_id))
