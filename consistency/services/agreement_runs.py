"""Agreement runs: request one (at most one in flight per project), compute it in a worker,
and publish its results atomically."""

import copy
import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from kombu.exceptions import OperationalError

from consistency.models import AgreementRun, RunStatus, RunTrigger
from consistency.report import RunReportBuilder
from consistency.selectors.annotations import annotations_frame, item_slices, prelabel_exposures_frame
from consistency.selectors.labels import gold_values
from consistency.selectors.predictions import probabilities_latest
from consistency.selectors.runs import autorun_enabled, run_to_share
from consistency.services.autorun import agreement_run_soon, autorun_claim, autorun_forget
from consistency.services.labeler_fits import FIT_REFRESH_TASK
from consistency.services.measure import CATEGORICAL_KINDS, RunParams, consensus_method, measure_project
from consistency.services.measure.inputs import run_inputs_digests
from consistency.services.measure.prelabels import measure_prelabels
from consistency.services.measure.publish import (
    StagedResults,
    results_frame_from_rows,
    results_publish,
    results_stage,
)
from consistency.services.run_retention import agreement_runs_prune_on_commit
from core.beside import Beside
from core.errors import Conflict
from core.jobs.lifecycle import (
    lifecycle_fail,
    lifecycle_fail_unsent,
    lifecycle_guard,
    lifecycle_start,
    lifecycle_succeed,
)
from core.jobs.services import task_named, task_send
from labeling.models import Annotation, LabelSchemaVersion, Project
from labeling.selectors.schema_versions import schema_version_current

logger = logging.getLogger(__name__)

# Named, not imported: the tasks modules import these services (docs/architecture.md).
COMPUTE_TASK = "consistency.tasks.runs.agreement_run_compute_task"
EXPORT_COUNTS_WARM_TASK = "consistency.tasks.exports.export_counts_warm_task"


def agreement_run_request(
    *,
    project: Project,
    requested_by: AbstractBaseUser | None,
    params: RunParams | None = None,
    trigger: str = RunTrigger.MANUAL,
) -> AgreementRun:
    """Create a pending run and send it to a worker after commit. 409 if one is in flight.
    Without ``params``: the defaults, with the project's consensus method."""
    params = params or RunParams(consensus=consensus_method(project.consensus_method))
    try:
        with transaction.atomic():
            run = AgreementRun.objects.create(
                project=project,
                schema_version=schema_version_current(project=project),
                requested_by=requested_by,
                trigger=trigger,
                params=params.as_dict(),
            )
    except IntegrityError as exc:
        active = AgreementRun.objects.filter(
            project=project, status__in=[RunStatus.PENDING, RunStatus.RUNNING]
        )
        active_id = active.values_list("id", flat=True).first()
        raise Conflict(
            "An agreement run is already in progress for this project.", extra={"run_id": active_id}
        ) from exc
    transaction.on_commit(lambda: _send(run))
    return run


def _send(run: AgreementRun) -> None:
    def mark_failed(message: str) -> None:
        lifecycle_fail_unsent(model=AgreementRun, pk=run.pk, error=message)

    task_send(task=task_named(COMPUTE_TASK), arg=run.id, on_broker_down=mark_failed)


def agreement_run_compute(*, run_id: int) -> AgreementRun | None:
    """Run the computation once. A redelivered run (its worker died) starts over; results
    of a run are written in one transaction together with its SUCCEEDED status."""
    run = lifecycle_start(model=AgreementRun, pk=run_id)
    if run is None or run.status != RunStatus.RUNNING:
        return run
    started = run
    staged: list[StagedResults] = []  # the per-item results, loading while the report is computed
    measured, error = lifecycle_guard(
        lambda: _measure(started, staged),
        timeout_error="The run took longer than its time limit and was stopped.",
        name=f"agreement run {run.id}",
    )
    if measured is None:
        _discard(staged)
        return lifecycle_fail(run, error=error)
    published, error = lifecycle_guard(
        lambda: _publish(started, measured, staged[0] if staged else None),
        timeout_error="The run took longer than its time limit and was stopped.",
        name=f"agreement run {run.id} (publishing)",
    )
    if published is None:  # rolled back: nothing of it stored; it must not stay running
        _discard(staged)
        return lifecycle_fail(run, error=error)
    if measured.shared_with is not None:  # nothing new measured: no warm-up, no refit
        return run
    _export_counts_warm_later(run)  # the export preview's per-label counts (exports/strata.py)
    if run.project.is_adaptive:  # new answers were measured: refresh the policy's estimates too
        try:
            task_named(FIT_REFRESH_TASK).delay(run.project_id)
        except OperationalError:  # beat refits within a minute once the broker is back
            logger.warning("could not send the labeler refit of project %s", run.project_id)
    return run


def _discard(staged: list[StagedResults]) -> None:
    """A failed run's loaded but unattached partition goes (the failure itself is recorded)."""
    for load in staged:
        try:
            load.discard()
        except Exception:  # the run's failure is what matters; beat's sweep drops it later
            logger.exception("could not drop the unpublished results of run %s", load.run_id)


# Below this many answers the counts take milliseconds in the first request that needs them.
WARM_FROM_ANSWERS = 100_000


def _export_counts_warm_later(run: AgreementRun) -> None:
    """Send the warm-up for a large run; a broker that is down only costs the first preview
    its speed."""
    if (run.annotation_count or 0) < WARM_FROM_ANSWERS:
        return
    try:
        task_named(EXPORT_COUNTS_WARM_TASK).delay(run.id)
    except OperationalError:
        logger.warning("could not send the export counts warm-up of run %s", run.id)


def agreement_run_debounced(*, project_id: int) -> int | None:
    """The debounce task (services.autorun): once the project has been quiet, start one run
    (its id)."""
    if not autorun_claim(project_id=project_id):
        return None
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        autorun_forget(project_id=project_id)
        return None
    try:
        run = agreement_run_request(project=project, requested_by=None, trigger=RunTrigger.AUTO)
    except Conflict:  # a run is in flight: look again once it may have landed
        agreement_run_soon(project_id=project_id)
        return None
    return run.id


@dataclass
class _Measured:
    builder: RunReportBuilder
    results: Any  # a results frame, or rows (shapes, transcripts); None when shared
    digests: tuple[str, str]  # of all its inputs, of its per-item results' inputs
    shared_with: AgreementRun | None  # the run whose per-item results it takes


# Inputs that only the report reads: a run that differs from the latest in these alone shares
# its per-item results. For classes gold too: results score the answers alone (a decided item's
# quality is read as 1.0), so a run after a resolution loads no rows.
REPORT_ONLY = ("exposures", "model_version")
REPORT_ONLY_CATEGORICAL = (*REPORT_ONLY, "gold")


def _measure(run: AgreementRun, staged: list[StagedResults]) -> _Measured:
    project = run.project
    version = LabelSchemaVersion.objects.prefetch_related("classes").get(pk=run.schema_version_id)
    categorical = project.label_kind in CATEGORICAL_KINDS
    # The items' slices come on a connection of their own while the answers are read: both
    # reads are mostly PostgreSQL's work, and the answers' read keeps one core busy.
    slices_read = Beside(lambda: item_slices(project=project), name=f"run {run.id} slices")
    frame = annotations_frame(project=project, schema_version=version, categorical=categorical)
    AgreementRun.objects.filter(pk=run.pk).update(progress=30)
    slices = slices_read.result()
    gold = gold_values(project=project, version=version)
    classes = [c.name for c in version.classes.all()]
    model = probabilities_latest(project=project, classes=classes)
    exposures = prelabel_exposures_frame(project=project)
    params = RunParams.from_dict(run.params)
    rules = version.transcript_rules or []
    digests = run_inputs_digests(
        results_skip=REPORT_ONLY_CATEGORICAL if categorical else REPORT_ONLY,
        frame=frame,
        label_kind=project.label_kind,
        classes=classes,
        slices=slices,
        gold=gold,
        params=params.as_dict(),
        transcript_rules=rules,
        model_version=model[0] if model else None,
        probabilities=model[1] if model else None,
        exposures=exposures,
    )
    # After review decisions alone a run measures the answers the latest run measured: it
    # shares that run's per-item results (1M items: no 5 s load) and, when nothing else
    # changed, its report. "Run now" always computes afresh.
    share = (
        None
        if run.trigger == RunTrigger.MANUAL
        else run_to_share(run=run, digest=digests[0], results_digest=digests[1])
    )
    if share is not None and share.report_too:
        return _Measured(RunReportBuilder(copy.deepcopy(share.run.report or {})), None, digests, share.run)
    report, results = measure_project(
        frame=frame,
        label_kind=project.label_kind,
        classes=classes,
        slices=slices,
        gold=gold,
        params=params,
        transcript_rules=rules,
        probabilities=model[1] if model else None,
        on_results=None if share is not None else lambda results: _stage(run.id, results, staged),
        results_wanted=share is None,
    )
    builder = RunReportBuilder(report)
    builder.model_version_set(model[0] if model else None)
    builder.prelabels_set(
        measure_prelabels(
            frame=frame,
            exposures=exposures,
            label_kind=project.label_kind,
            rules=rules,
            seed=params.seed,
        )
    )
    if share is not None:  # ``results`` is None: only the report was computed
        return _Measured(builder, None, digests, share.run)
    return _Measured(builder, results, digests, None)


def _stage(run_id: int, results, staged: list[StagedResults]) -> bool:
    """Start the results' load (True: it took them, the publish needs them no more)."""
    load = results_stage(run_id=run_id, results=results)
    if load is not None:
        staged.append(load)
    return load is not None


def _name_labelers(builder: RunReportBuilder) -> None:
    """Usernames beside labeler ids, for reviewers and managers (reports never reach labelers)."""
    ids = builder.labeler_ids()
    builder.usernames_set(dict(get_user_model().objects.filter(pk__in=ids).values_list("id", "username")))


def _publish(run: AgreementRun, measured: _Measured, staged: StagedResults | None) -> bool:
    _name_labelers(measured.builder)
    report = measured.builder.build()
    results = measured.results  # None when shared, or when the staged load took them
    if results is not None and not isinstance(results, pd.DataFrame):  # shapes, transcripts
        results = results_frame_from_rows(results)
    with transaction.atomic():
        if measured.shared_with is not None:
            run.results_run_id = _results_hold(measured.shared_with)
        else:
            results_publish(run_id=run.id, results=results, staged=staged)
        run.report = report.to_json()
        run.headline_alpha = report.alpha
        run.annotation_count = report.answer_count
        run.inputs_digest, run.results_digest = measured.digests
        lifecycle_succeed(
            run,
            fields=(
                "report",
                "headline_alpha",
                "annotation_count",
                "inputs_digest",
                "results_digest",
                "results_run",
            ),
        )
        # Older runs' per-item results go once this one is visible (services.run_retention).
        agreement_runs_prune_on_commit(project_id=run.project_id)
    return True


def _results_hold(shared: AgreementRun) -> int:
    """The id of the run whose results ``shared``'s report describes, its row locked until the
    publish commits: the retention rule locks it too, and keeps results a run shares."""
    owner = (
        AgreementRun.objects.select_for_update()
        .filter(pk=shared.results_id, results_pruned_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )
    if owner is None:
        raise RuntimeError(
            f"The results of run #{shared.number} were removed while this run read its answers."
        )
    return owner


def agreement_runs_start_due() -> list[int]:
    """Start a run in every project whose new answers since its last run reached its
    ``auto_run_every`` (debounced: at most one run in flight per project; beat calls this)."""
    last_count = (
        AgreementRun.objects.filter(project=OuterRef("pk"))
        .order_by("-created_at")
        .values("annotation_count")[:1]
    )
    projects = (
        Project.objects.filter(auto_run_every__gt=0)
        .exclude(agreement_runs__status__in=[RunStatus.PENDING, RunStatus.RUNNING])
        .annotate(last=Subquery(last_count))
    )
    started = []
    for project in projects:
        current = Annotation.objects.filter(item__project=project, is_current=True).aggregate(
            n=Count("pk", filter=Q(skip_reason=""))
        )["n"]
        if current - (project.last or 0) >= project.auto_run_every:
            if autorun_enabled():  # after a quiet period, on a worker
                agreement_run_soon(project_id=project.id)
                continue
            try:
                run = agreement_run_request(project=project, requested_by=None, trigger=RunTrigger.AUTO)
            except Conflict:
                continue
            started.append(run.id)
    return started
