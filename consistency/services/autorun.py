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

import redis
from django.conf import settings
from django.db import transaction

from consistency.models import RunTrigger
from consistency.selectors.runs import autorun_enabled
from core.errors import Conflict
from labeling.models import Project

logger = logging.getLogger(__name__)


def _keys(project_id: int) -> tuple[str, str]:
    return f"concord:autorun:{project_id}:due", f"concord:autorun:{project_id}:queued"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def agreement_run_soon(*, project_id: int) -> None:
    """Ask for a run once the project is quiet; call after the change commits."""
    if not autorun_enabled():
        return
    from consistency.tasks import agreement_run_debounced_task

    quiet = settings.CONCORD_AUTORUN_QUIET_SECONDS
    due_key, queued_key = _keys(project_id)
    try:
        client = _redis()
        client.set(due_key, time.time() + quiet, ex=quiet * 10 + 3600)
        if client.set(queued_key, 1, nx=True, ex=quiet * 10 + 3600):
            agreement_run_debounced_task.apply_async(args=[project_id], countdown=quiet)
    except (redis.RedisError, OSError):
        # The change itself is stored; the pages say the figures are behind until a run.
        logger.warning("could not schedule the automatic run of project %s", project_id)


def agreement_run_soon_on_commit(*, project_id: int) -> None:
    transaction.on_commit(lambda: agreement_run_soon(project_id=project_id))


def agreement_run_debounced(*, project_id: int) -> int | None:
    """The debounce task: wait for the rest of the quiet period, then start one run (its id)."""
    from consistency.services.agreement_runs import agreement_run_request
    from consistency.services.measure import RunParams
    from consistency.tasks import agreement_run_debounced_task

    due_key, queued_key = _keys(project_id)
    client = _redis()
    left = float(client.get(due_key) or 0) - time.time()
    if left > 0.05:
        agreement_run_debounced_task.apply_async(args=[project_id], countdown=left)
        return None
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        client.delete(queued_key, due_key)
        return None
    client.delete(queued_key)  # from here on, a new change queues a new debounce task
    try:
        run = agreement_run_request(
            project=project,
            requested_by=None,
            trigger=RunTrigger.AUTO,
            params=RunParams(consensus=project.consensus_method),
        )
    except Conflict:  # a run is in flight: look again once it may have landed
        agreement_run_soon(project_id=project_id)
        return None
    return run.id
