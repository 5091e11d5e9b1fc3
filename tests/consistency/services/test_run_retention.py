"""Retention of runs' per-item results (services.run_retention) on PostgreSQL: older runs'
partitions are detached and dropped, the latest runs' reads do not change, and every reader that
asks for a pruned run is told so."""

import json
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from consistency.models import AgreementRun, DatasetSnapshot, ItemResult
from consistency.selectors.labels import item_labels, label_context
from consistency.services.agreement_runs import agreement_run_request
from consistency.services.measure.publish import partition_table, results_frame_from_rows, results_publish
from consistency.services.run_retention import agreement_runs_prune, agreement_runs_prune_due, runs_prunable
from core.audit.models import AuditEvent
from core.errors import Gone
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import ItemFactory, ProjectFactory, finished_run
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def keep_two(settings):
    settings.CONCORD_RUN_RESULTS_KEEP = 2
    settings.CONCORD_RUN_RESULTS_GRACE_SECONDS = 0
    return settings


def partitions() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'consistency_itemresult'::regclass"
        )
        return {row[0] for row in cursor.fetchall()}


def published_run(project, items, consensus="1"):
    """A succeeded run whose results were published as the worker publishes them (its own
    partition on PostgreSQL)."""
    now = timezone.now()
    run = AgreementRun.objects.create(
        project=project,
        schema_version=project.schema_version,
        status="succeeded",
        params={"consensus": "majority"},
        report={"overall": {"alpha": 0.5}},
        headline_alpha=0.5,
        started_at=now,
        finished_at=now,
    )
    rows = [
        {
            "item_id": it.id,
            "n_answers": 3,
            "consensus": consensus,
            "method": "majority",
            "confidence": 1.0,
            "disagreement": 0.5 if i % 3 == 0 else 0.0,
        }
        for i, it in enumerate(items)
    ]
    results_publish(run_id=run.id, results=results_frame_from_rows(rows))
    return run


@pytest.fixture
def records(staff):
    project = ProjectFactory(created_by=staff, data_type="record", classes=["1", "0"])
    return project, [ItemFactory(project=project, external_id=f"r{i:02d}") for i in range(12)]


def test_n_plus_one_real_runs_leave_n_partitions_and_every_report(
    project, staff, keep_two, django_capture_on_commit_callbacks
):
    """Runs computed by the worker prune after they succeed (dispatched on commit)."""
    label(project, ANSWERS)
    runs = []
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            runs.append(agreement_run_request(project=project, requested_by=staff))
    for run in runs:
        run.refresh_from_db()
    assert [r.status for r in runs] == ["succeeded"] * 3
    ours = {partition_table(r.id) for r in runs}
    assert partitions() & ours == {partition_table(runs[1].id), partition_table(runs[2].id)}
    assert runs[0].results_pruned and not runs[1].results_pruned and not runs[2].results_pruned
    assert not ItemResult.objects.filter(run=runs[0]).exists()
    assert ItemResult.objects.filter(run=runs[2]).count() == len(ANSWERS)
    assert runs[0].report["counts"]["answers"] == 18 and runs[0].headline_alpha is not None
    history = client_for(staff).get(f"/api/projects/{project.id}/agreement-runs/").json()["results"]
    assert {r["id"]: r["results_pruned_at"] is not None for r in history} == {
        runs[0].id: True,
        runs[1].id: False,
        runs[2].id: False,
    }
    event = AuditEvent.objects.get(project=project, action="agreement_run.results_pruned")
    assert (event.actor, event.target, event.after["run_id"]) == (None, "run #1", runs[0].id)


def test_pruning_twice_is_a_no_op(records, keep_two):
    project, items = records
    runs = [published_run(project, items) for _ in range(4)]
    assert agreement_runs_prune(project_id=project.id) == [runs[1].id, runs[0].id]
    before = partitions()
    assert agreement_runs_prune(project_id=project.id) == []
    assert agreement_runs_prune_due() == []
    assert partitions() == before
    assert AuditEvent.objects.filter(action="agreement_run.results_pruned").count() == 2


def test_the_latest_runs_exports_and_queue_read_the_same_after_pruning(records, settings, staff):
    project, items = records
    settings.CONCORD_RUN_RESULTS_KEEP = 1
    settings.CONCORD_RUN_RESULTS_GRACE_SECONDS = 3600  # nothing goes while the runs land
    published_run(project, items, consensus="0")
    latest = published_run(project, items, consensus="1")
    client = client_for(staff)

    def reads():
        export = client.get(f"/api/projects/{project.id}/export/")
        parquet = client.get(f"/api/projects/{project.id}/export/", {"format": "parquet"})
        queue = client.get(f"/api/projects/{project.id}/disagreements/")
        assert export.status_code == parquet.status_code == queue.status_code == 200
        assert export["X-Concord-Run"] == str(latest.id)
        return (
            b"".join(export.streaming_content),
            b"".join(parquet.streaming_content),
            queue.json(),
        )

    before = reads()
    assert before[2]["count"] == 4
    assert agreement_runs_prune(project_id=project.id) == []
    settings.CONCORD_RUN_RESULTS_GRACE_SECONDS = 0
    assert len(agreement_runs_prune(project_id=project.id)) == 1
    assert reads() == before
    assert {json.loads(line)["label"] for line in before[0].decode().splitlines()} == {"1"}


def test_an_old_runs_per_item_reads_say_they_were_pruned(records, keep_two, staff, client):
    project, items = records
    old = published_run(project, items)
    for _ in range(2):
        published_run(project, items)
    agreement_runs_prune(project_id=project.id)
    api = client_for(staff)
    response = api.get(f"/api/projects/{project.id}/export/", {"run": old.id})
    assert response.status_code == 410
    error = response.json()["error"]
    assert error["code"] == "run_results_pruned" and error["run_id"] == old.id
    assert "run #1 were pruned" in error["message"]
    # By schema version: the latest run on it is kept here, so it still exports.
    assert api.get(f"/api/projects/{project.id}/export/", {"schema_version": 1}).status_code == 200
    snapshot = api.post(f"/api/projects/{project.id}/snapshots/", {"run": old.id}, format="json")
    assert snapshot.status_code == 410 and not DatasetSnapshot.objects.exists()
    detail = api.get(f"/api/agreement-runs/{old.id}/").json()
    assert detail["results_pruned_at"] is not None and detail["report"] == {"overall": {"alpha": 0.5}}

    client.force_login(staff)
    page = client.get(f"/projects/{project.id}/export/", {"run": old.id, "preview": 1})
    assert page.status_code == 400 and "run #1 were pruned" in page.content.decode()
    download = client.get(f"/projects/{project.id}/export/download/", {"run": old.id}, follow=True)
    assert "run #1 were pruned" in download.content.decode()
    operations = client.get(f"/projects/{project.id}/operations/").content.decode()
    assert operations.count("Per-item results pruned") == 1  # run #1 only; its row stays listed


def test_a_reader_going_chunk_by_chunk_is_told_when_its_run_is_pruned_midway(records, keep_two):
    project, items = records
    old = published_run(project, items)
    ctx = label_context(project=project, run=old)  # a long export of run #1 starts
    for _ in range(2):
        published_run(project, items)
    agreement_runs_prune(project_id=project.id)
    with pytest.raises(Gone):
        item_labels(ctx, [(it.id, False, None, None) for it in items])


def test_a_snapshot_frozen_from_an_old_run_still_downloads(
    records, keep_two, staff, django_capture_on_commit_callbacks
):
    """Snapshots are files written once: pruning their run's results does not touch them."""
    project, items = records
    old = published_run(project, items, consensus="0")
    api = client_for(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/projects/{project.id}/snapshots/", {"run": old.id}, format="json")
    job = api.get(response["Location"]).json()
    assert job["status"] == "succeeded", job
    snapshot = DatasetSnapshot.objects.get(pk=job["result"]["snapshot_id"])
    for _ in range(2):
        published_run(project, items, consensus="1")
    assert agreement_runs_prune(project_id=project.id) == [old.id]
    download = api.get(f"/api/snapshots/{snapshot.id}/download/")
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert download["X-Content-SHA256"] == snapshot.files["all"]["sha256"]
    assert {json.loads(line)["label"] for line in body.decode().splitlines()} == {"0"}
    detail = api.get(f"/api/snapshots/{snapshot.id}/").json()
    assert detail["manifest"]["agreement_run"]["id"] == old.id


def test_a_run_is_pruned_only_after_the_grace_since_it_stopped_being_the_latest(records, settings):
    project, items = records
    settings.CONCORD_RUN_RESULTS_KEEP = 1
    settings.CONCORD_RUN_RESULTS_GRACE_SECONDS = 600
    old = published_run(project, items)
    published_run(project, items)
    assert runs_prunable(project_id=project.id) == []
    assert agreement_runs_prune(project_id=project.id) == []
    assert partition_table(old.id) in partitions()
    later = timezone.now() + timedelta(seconds=601)
    assert runs_prunable(project_id=project.id, now=later) == [old.id]


def test_rows_in_the_default_partition_are_deleted(records, keep_two):
    """Runs from before the partitioning (and fixture rows) live in the default partition."""
    project, items = records
    old = finished_run(project, [{"item": it, "consensus": "0"} for it in items])
    assert partition_table(old.id) not in partitions()
    kept = [published_run(project, items) for _ in range(2)]
    assert agreement_runs_prune(project_id=project.id) == [old.id]
    assert not ItemResult.objects.filter(run=old).exists()
    assert all(ItemResult.objects.filter(run=run).count() == len(items) for run in kept)


def test_a_prune_that_finds_the_results_table_locked_gives_up_and_retries_later(records, keep_two):
    """DETACH waits for readers of the whole table: past the lock timeout it leaves the run as it
    was (readers never queue behind it for long), and the next prune does it."""
    project, items = records
    old = published_run(project, items)
    for _ in range(2):
        published_run(project, items)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params) as reader:  # a long export reading the table
        reader.execute("SET lock_timeout = '10s'")  # never hang the suite
        # ONLY: this test's own uncommitted partitions hold locks a recursive LOCK would wait on.
        reader.execute("LOCK TABLE ONLY consistency_itemresult IN ACCESS SHARE MODE")
        assert agreement_runs_prune(project_id=project.id) == []
        reader.rollback()
    old.refresh_from_db()
    assert not old.results_pruned and partition_table(old.id) in partitions()
    assert agreement_runs_prune(project_id=project.id) == [old.id]
