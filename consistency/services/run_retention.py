"""Retention of agreement runs' per-item results.

Every run stores one result row per item (1M rows a run at 1M items) and runs start by
themselves, so the per-item results of all but the latest ``CONCORD_RUN_RESULTS_KEEP``
succeeded runs of a project are removed. The run row and its report (the history charts, the
overview's previous alpha) always stay; ``results_pruned_at`` tells readers the rows are gone,
and the readers that choose a run explicitly (exports and snapshots by ``run`` or
``schema_version``) answer 410 for such a run (``selectors.labels.label_context``). Every other
reader reads the latest run, which is always kept. Snapshots are files written once when they
are frozen: they still download after their run is pruned.

On PostgreSQL a run's rows are its own partition (``measure.publish``): it is detached and
dropped, which takes a moment and leaves no dead rows to vacuum. Rows in the default partition
(runs from before the partitioning, fixtures) and on SQLite are deleted.

A run that shares an older run's results (``AgreementRun.results_run``: it read the same
answers) has no rows of its own: pruning it only marks it, and the older run's rows stay until
no kept run shares them.

Safe to run twice and alongside a run publishing: each run is pruned in its own transaction
after locking its row and checking again that it is still prunable, and a run is only pruned
once ``CONCORD_RUN_RESULTS_GRACE_SECONDS`` have passed since it stopped being the latest, so a
page, export or snapshot that began reading it while it was the latest has finished.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Count
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from consistency.models import AgreementRun, ItemResult, RunStatus
from consistency.services.measure.publish import (
    partition_detached_drop,
    partition_table,
    partitions_unattached,
)
from core.audit.services import audit
from core.jobs.services import task_named

logger = logging.getLogger(__name__)

# Named, not imported: the tasks modules import the services (docs/architecture.md).
PRUNE_TASK = "consistency.tasks.runs.agreement_runs_prune_task"
# DETACH takes an exclusive lock on the whole results table: while it waits for a long reader
# (a streaming export), every other reader queues behind it. Past this wait the prune gives up
# and the next one (the next run, or beat's hourly sweep) tries again.
LOCK_TIMEOUT = "2s"
LOCK_NOT_AVAILABLE = "55P03"


def runs_prunable(*, project_id: int, now: datetime | None = None) -> list[int]:
    """Ids of the project's succeeded runs whose per-item results may go now, oldest last:
    those after the latest ``CONCORD_RUN_RESULTS_KEEP`` (in ``run_latest``'s order) that
    stopped being the latest more than the grace period ago and still have their results."""
    keep = settings.CONCORD_RUN_RESULTS_KEEP
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.CONCORD_RUN_RESULTS_GRACE_SECONDS)
    runs = list(
        AgreementRun.objects.filter(project_id=project_id, status=RunStatus.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .values_list("id", "finished_at", "results_pruned_at", "results_run_id")
    )
    shared = _results_shared(runs)
    due = []
    for position in range(keep, len(runs)):
        run_id, _, pruned_at, _ = runs[position]
        # The run stopped being the latest when the next newer one finished.
        superseded_at = runs[position - 1][1]
        if (
            pruned_at is None
            and superseded_at is not None
            and superseded_at <= cutoff
            and run_id not in shared
        ):
            due.append(run_id)
    return due


def _results_shared(runs) -> set[int]:
    """Runs whose results a run not yet pruned shares (``AgreementRun.results_run``): they stay
    until every such run is pruned (which only marks it: it has no rows of its own)."""
    return {
        results_run_id for _, _, pruned_at, results_run_id in runs if results_run_id and pruned_at is None
    }


def agreement_runs_prune(*, project_id: int) -> list[int]:
    """Remove the per-item results of the project's runs past the retention rule; return the
    ids pruned now (empty when there is nothing to do, or the results table stayed locked)."""
    pruned: list[int] = []
    tried: set[int] = set()
    # Newest first; a pass that prunes the last runs sharing an older run's results makes that
    # run prunable: one more pass then.
    while due := [run_id for run_id in runs_prunable(project_id=project_id) if run_id not in tried]:
        for run_id in due:
            tried.add(run_id)
            try:
                done = _prune_one(run_id)
            except OperationalError as exc:
                if getattr(exc.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                    raise
                logger.warning("results of run %s not pruned: the results table stayed locked", run_id)
                return pruned
            if done:
                pruned.append(run_id)
    return pruned


def _prune_one(run_id: int) -> bool:
    with transaction.atomic():
        run = (
            AgreementRun.objects.select_for_update(of=("self",))
            .select_related("project")
            .filter(pk=run_id, status=RunStatus.SUCCEEDED, results_pruned_at__isnull=True)
            .first()
        )
        if run is None:  # another prune got here first (the lock waited for it)
            return False
        # A run that shares these results and keeps them locks this run's row as it publishes
        # (``agreement_runs``): checked again under the lock.
        if AgreementRun.objects.filter(results_run_id=run_id, results_pruned_at__isnull=True).exists():
            return False
        if connection.vendor == "postgresql":
            _drop_partition(run_id)
        ItemResult.objects.filter(run_id=run_id).delete()  # the default partition; SQLite
        run.results_pruned_at = timezone.now()
        run.save(update_fields=["results_pruned_at"])
        audit(
            project=run.project,
            actor=None,
            action="agreement_run.results_pruned",
            target=f"run #{run.number}",
            after={
                "run_id": run.id,
                "kept_latest": settings.CONCORD_RUN_RESULTS_KEEP,
                "results_pruned_at": run.results_pruned_at.isoformat(),
            },
        )
    return True


def _drop_partition(run_id: int) -> None:
    table = partition_table(run_id)
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(
            "SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(%s) "
            "AND inhparent = 'consistency_itemresult'::regclass",
            [table],
        )
        if cursor.fetchone() is None:  # rows from before the partitioning, or fixture rows
            return
        cursor.execute(f"ALTER TABLE consistency_itemresult DETACH PARTITION {table}")
        cursor.execute(f"DROP TABLE {table}")


def agreement_runs_prune_due() -> list[int]:
    """Beat's sweep: prune every project that has more succeeded runs with results than it
    keeps (prunes held back by the grace period or a lock, projects that stopped running)."""
    projects = (
        AgreementRun.objects.filter(status=RunStatus.SUCCEEDED, results_pruned_at__isnull=True)
        .values("project_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=settings.CONCORD_RUN_RESULTS_KEEP)
        .values_list("project_id", flat=True)
    )
    pruned = []
    for project_id in list(projects):
        pruned += agreement_runs_prune(project_id=project_id)
    unattached_drop()
    return pruned


def unattached_drop() -> list[int]:
    """Drop the partitions loaded for runs that never published them and no longer will (their
    worker died between the load and the publish: measure.publish.StagedResults). A run still
    pending or running keeps its table: it may attach it yet."""
    if connection.vendor != "postgresql":
        return []
    candidates = partitions_unattached()
    active = set(
        AgreementRun.objects.filter(
            pk__in=candidates, status__in=[RunStatus.PENDING, RunStatus.RUNNING]
        ).values_list("pk", flat=True)
    )
    gone = [run_id for run_id in candidates if run_id not in active]
    return [run_id for run_id in gone if partition_detached_drop(run_id=run_id)]


def agreement_runs_prune_on_commit(*, project_id: int) -> None:
    """After a run succeeds (call in its transaction): prune once it commits, when the project
    has more runs with results than it keeps (no message otherwise). A broker that is down only
    delays the prune to beat's next sweep."""
    with_results = AgreementRun.objects.filter(
        project_id=project_id, status=RunStatus.SUCCEEDED, results_pruned_at__isnull=True
    )
    if with_results.count() <= settings.CONCORD_RUN_RESULTS_KEEP:
        return

    def send() -> None:
        try:
            task_named(PRUNE_TASK).delay(project_id)
        except BrokerError:
            logger.warning("could not send the results prune of project %s", project_id)

    transaction.on_commit(send)
