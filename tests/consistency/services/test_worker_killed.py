"""A worker process SIGKILLed in the middle of an agreement run or a snapshot: the task is
redelivered, finishes exactly once, and leaves no duplicate or half-written result."""

import hashlib
import os
import shutil
import signal
from pathlib import Path

import pytest
from django.conf import settings

from consistency.models import AgreementRun, DatasetSnapshot, ItemResult
from core.jobs.models import Job
from labeling.models import Item, Role
from tests.bulk import answers_insert, finished_run_insert, items_insert
from tests.factories import MembershipFactory, ProjectFactory
from tests.helpers import client_for
from tests.worker import celery_worker_process, wait_for, worker_child_pid  # noqa: F401 — fixture

CLASSES = ["deep scratch", "shallow scratch", "dent", "none"]


def _kill_the_task_process(worker) -> None:
    child = worker_child_pid(worker)
    assert child is not None
    os.kill(child, signal.SIGKILL)


@pytest.mark.worker
@pytest.mark.parametrize("celery_worker_process", ["prefork"], indirect=True)
def test_agreement_run_survives_a_killed_worker_and_writes_its_results_once(
    staff,
    celery_worker_process,  # noqa: F811 — the fixture, parametrized
):
    project = ProjectFactory(created_by=staff, classes=CLASSES)
    labelers = [MembershipFactory(project=project, role=Role.LABELER).user.id for _ in range(5)]
    items_insert(project=project, count=40_000, target=5)
    answers_insert(project=project, labeler_ids=labelers, classes=CLASSES)

    response = client_for(staff).post(f"/api/projects/{project.id}/agreement-runs/", {}, format="json")
    assert response.status_code == 202
    run_id = response.json()["id"]
    # Killed once the answers are read and the measuring has begun (progress 30).
    wait_for(lambda: AgreementRun.objects.filter(pk=run_id, progress__gte=30).exists(), timeout=60)
    assert AgreementRun.objects.get(pk=run_id).status == "running"
    _kill_the_task_process(celery_worker_process)

    run = wait_for(
        lambda: AgreementRun.objects.filter(pk=run_id, status__in=["succeeded", "failed"]).first(),
        timeout=180,
    )
    assert run.status == "succeeded", run.error
    assert run.attempts == 2  # the killed attempt, then the redelivered one
    assert run.annotation_count == 200_000
    results = ItemResult.objects.filter(run=run)
    assert results.count() == 40_000
    assert results.values("item_id").distinct().count() == 40_000  # one row per item, no duplicate
    assert 0 < run.headline_alpha < 1


@pytest.mark.worker
@pytest.mark.parametrize("celery_worker_process", ["prefork"], indirect=True)
def test_snapshot_survives_a_killed_worker_without_half_written_files(
    staff,
    celery_worker_process,  # noqa: F811 — the fixture, parametrized
):
    project = ProjectFactory(created_by=staff, data_type="record", classes=["1", "0"])
    items_insert(project=project, count=100_000)
    finished_run_insert(project=project, classes=["1", "0"])

    body = {"format": "jsonl", "split": "train:80,dev:10,test:10", "seed": 3}
    response = client_for(staff).post(f"/api/projects/{project.id}/snapshots/", body, format="json")
    assert response.status_code == 202
    job_id = response.json()["id"]
    folder = Path(settings.MEDIA_ROOT) / "snapshots" / f"job{job_id}"
    shutil.rmtree(folder, ignore_errors=True)  # job ids restart with each test database
    wait_for(lambda: Job.objects.filter(pk=job_id, status="running").exists(), timeout=60)
    # Killed after the first split's file is written and before the snapshot row exists.
    wait_for(lambda: folder.is_dir() and any(folder.iterdir()), timeout=60)
    assert not DatasetSnapshot.objects.filter(job_id=job_id).exists()
    _kill_the_task_process(celery_worker_process)

    job = wait_for(
        lambda: Job.objects.filter(pk=job_id, status__in=["succeeded", "failed"]).first(), timeout=180
    )
    assert job.status == "succeeded", job.error
    assert job.attempts == 2
    snapshot = DatasetSnapshot.objects.get(job_id=job_id)  # exactly one
    assert snapshot.row_count == Item.objects.filter(project=project).count() == 100_000
    on_disk = {path.name for path in folder.iterdir()}
    assert on_disk == {Path(f["path"]).name for f in snapshot.files.values()}  # nothing left over
    for split in ("train", "dev", "test"):
        stored = snapshot.files[split]
        content = (Path(settings.MEDIA_ROOT) / stored["path"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == stored["sha256"]
        assert content.count(b"\n") == stored["rows"]
    assert sum(f["rows"] for f in snapshot.files.values()) == 100_000
