"""A run's per-item results are loaded on a connection of their own while the report is
still being computed (measure.publish.StagedResults), and attached when the run succeeds:
the same rows as the load inside the publishing transaction, nothing left behind when the
run fails, and beat's sweep drops the table of a run whose worker died after the load."""

import pytest
from django.db import connection, transaction

from consistency.models import AgreementRun, ItemResult, RunStatus
from consistency.services import agreement_runs
from consistency.services.agreement_runs import agreement_run_compute
from consistency.services.measure import categorical, publish
from consistency.services.measure.publish import partition_table, partitions_unattached
from consistency.services.run_retention import agreement_runs_prune_due
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import ProjectFactory

# Committed transactions: the load's own connection must see and commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = (
    "item_id",
    "n_answers",
    "consensus",
    "by_method",
    "confidence",
    "agreement",
    "is_tie",
    "label_quality",
)


def table_exists(run_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [partition_table(run_id)])
        return cursor.fetchone()[0] is not None


@pytest.fixture
def labeled():
    project = ProjectFactory(classes=["deep scratch", "shallow scratch", "dent", "none"])
    label(project, ANSWERS)
    return project


def rows(run) -> list[tuple]:
    return sorted(ItemResult.objects.filter(run=run).values_list(*FIELDS))


def test_staged_load_publishes_the_rows_the_in_transaction_load_does(labeled, monkeypatch):
    loads = []
    original = publish.StagedResults.__init__

    def spy(self, **kwargs):
        loads.append(kwargs["run_id"])
        original(self, **kwargs)

    monkeypatch.setattr(publish.StagedResults, "__init__", spy)
    staged_run = AgreementRun.objects.create(project=labeled, schema_version=labeled.schema_version)
    agreement_run_compute(run_id=staged_run.id)
    assert loads == [staged_run.id]  # the load did run on its own connection

    inline_run = AgreementRun.objects.create(project=labeled, schema_version=labeled.schema_version)
    with transaction.atomic():  # inside a transaction the load stays in it (no second connection)
        agreement_run_compute(run_id=inline_run.id)
    assert loads == [staged_run.id]

    for run in (staged_run, inline_run):
        run.refresh_from_db()
        assert run.status == RunStatus.SUCCEEDED, run.error
    assert len(rows(staged_run)) == len(ANSWERS) and rows(staged_run) == rows(inline_run)
    assert partitions_unattached() == []


def test_a_run_failing_after_the_load_leaves_no_table(labeled, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("HLP broke")

    monkeypatch.setattr(categorical, "hlp_section_categorical", broken)
    run = AgreementRun.objects.create(project=labeled, schema_version=labeled.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "HLP broke" in run.error
    assert not table_exists(run.id) and not ItemResult.objects.filter(run=run).exists()


def test_a_publish_that_fails_drops_the_loaded_table(labeled, monkeypatch):
    def attach_fails(*, run_id, results, staged=None):
        staged.wait()  # loaded and committed, detached
        raise RuntimeError("attach failed")

    monkeypatch.setattr(agreement_runs, "results_publish", attach_fails)
    run = AgreementRun.objects.create(project=labeled, schema_version=labeled.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and not table_exists(run.id)


def test_beat_sweep_drops_tables_of_runs_that_died_after_the_load(labeled):
    """A worker killed between the load and the publish leaves its table detached; the run is
    then failed by the reaper. A run still running keeps its table (it may attach it yet)."""
    dead, alive = (
        AgreementRun.objects.create(project=labeled, schema_version=labeled.schema_version, status=status)
        for status in (RunStatus.FAILED, RunStatus.RUNNING)
    )
    frame = publish.results_frame_from_rows(
        [{"item_id": item.id, "n_answers": 3} for item in labeled.items.all()]
    )
    for run in (dead, alive):
        publish.StagedResults(run_id=run.id, results=frame).wait()
    assert {dead.id, alive.id} <= set(partitions_unattached())
    agreement_runs_prune_due()
    assert not table_exists(dead.id) and table_exists(alive.id)
    publish.partition_detached_drop(run_id=alive.id)
    assert not table_exists(alive.id)


def test_a_run_outside_a_transaction_reads_its_answers_in_halves_on_two_connections(labeled, monkeypatch):
    """Committed data, so the second half of the item range is read on a connection of its own
    (core.beside.Beside): the run's report and per-item results are those of a one-part read."""
    from consistency.selectors import answer_blocks

    threads = []
    original = answer_blocks.Beside.__init__

    def spy(self, fn, **kwargs):
        original(self, fn, **kwargs)
        if kwargs["name"].startswith("answers of project"):
            threads.append(self._thread is not None)

    monkeypatch.setattr(answer_blocks.Beside, "__init__", spy)
    reports = {}
    for split_from in (10**9, 2):
        monkeypatch.setattr(answer_blocks, "SPLIT_FROM_ITEMS", split_from)
        run = AgreementRun.objects.create(project=labeled, schema_version=labeled.schema_version)
        agreement_run_compute(run_id=run.id)
        run.refresh_from_db()
        assert run.status == RunStatus.SUCCEEDED, run.error
        report = dict(run.report)
        report.pop("timing", None)
        report.get("overall", {}).pop("seconds", None)
        reports[split_from] = (report, rows(run))
    assert threads == [True]  # the second read ran beside the first, on its own thread
    assert reports[2][1] == reports[10**9][1] and len(reports[2][1]) == len(ANSWERS)
    assert reports[2][0]["overall"] == reports[10**9][0]["overall"]
    assert reports[2][0]["counts"] == reports[10**9][0]["counts"]


@pytest.mark.parametrize("writer", ["tails_insert", "csv_chunks"])
def test_the_results_frame_is_let_go_before_the_rows_are_written(labeled, monkeypatch, writer):
    """At 10M answers the frame (hundreds of MB at 3.3M items) was held by the run and the load
    through HLP, the run's memory peak: once the load has its tails and item ids, nothing holds
    it, on either path (joined INSERT for few distinct tails, COPY for many)."""
    import gc
    import weakref

    frames: list = []
    held_at_insert: list[bool] = []
    measure = categorical.item_results
    insert = getattr(publish, writer)
    if writer == "csv_chunks":
        monkeypatch.setattr(publish, "MAX_JOINED_TAILS", 0)

    def results_spy(*args, **kwargs):
        frame = measure(*args, **kwargs)
        frames.append(weakref.ref(frame))
        return frame

    def insert_spy(*args, **kwargs):
        gc.collect()
        held_at_insert.append(frames[0]() is not None)
        return insert(*args, **kwargs)

    monkeypatch.setattr(categorical, "item_results", results_spy)
    monkeypatch.setattr(publish, writer, insert_spy)
    run = AgreementRun.objects.create(project=labeled, schema_version=labeled.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert held_at_insert == [False]
    assert ItemResult.objects.filter(run=run).count() == len(ANSWERS)
