import dataclasses
import json

import pytest

from consistency.models import DatasetSnapshot
from labeling.models import Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, finished_run
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def project_with_run(staff):
    project = ProjectFactory(created_by=staff, data_type="record", classes=["1", "0"])
    items = [ItemFactory(project=project, external_id=f"r{i}") for i in range(40)]
    finished_run(
        project, [{"item": it, "consensus": "1" if i % 4 == 0 else "0"} for i, it in enumerate(items)]
    )
    return project


def test_snapshot_freezes_files_per_split_with_hashes_and_lineage(
    project_with_run, staff, django_capture_on_commit_callbacks
):
    client = client_for(staff)
    body = {"format": "jsonl", "split": "train:50,test:50", "seed": 1}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/projects/{project_with_run.id}/snapshots/", body, format="json")
    assert response.status_code == 202
    job = client.get(response["Location"]).json()
    assert job["status"] == "succeeded", job
    snapshot = DatasetSnapshot.objects.get(pk=job["result"]["snapshot_id"])
    assert snapshot.row_count == 40 and set(snapshot.files) == {"train", "test"}
    detail = client.get(f"/api/snapshots/{snapshot.id}/").json()
    assert detail["manifest"]["lineage"][0]["schema_version"] == 1
    download = client.get(f"/api/snapshots/{snapshot.id}/download/", {"split": "train"})
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert len(lines) == 20 and all(json.loads(line)["split"] == "train" for line in lines)
    assert download["X-Content-SHA256"] == snapshot.files["train"]["sha256"]

    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(f"/api/projects/{project_with_run.id}/snapshots/", body, format="json")
    second = DatasetSnapshot.objects.get(pk=client.get(again["Location"]).json()["result"]["snapshot_id"])
    assert second.id != snapshot.id and second.content_hash == snapshot.content_hash


def test_snapshot_bad_params_are_refused_before_queueing(project_with_run, staff):
    response = client_for(staff).post(
        f"/api/projects/{project_with_run.id}/snapshots/", {"split": "train:90"}, format="json"
    )
    assert response.status_code == 400
    assert not DatasetSnapshot.objects.exists()


def test_pipeline_lists_and_downloads_but_cannot_create(project_with_run):
    pipeline = MembershipFactory(project=project_with_run, role=Role.PIPELINE).user
    client = client_for(pipeline)
    assert client.get(f"/api/projects/{project_with_run.id}/snapshots/").status_code == 200
    assert (
        client.post(f"/api/projects/{project_with_run.id}/snapshots/", {}, format="json").status_code == 403
    )


def test_a_lagging_replica_without_the_run_leaves_the_snapshot_to_the_primary(
    project_with_run, staff, django_capture_on_commit_callbacks, monkeypatch
):
    """With lag tolerated (CONCORD_REPLICA_MAX_LAG_SECONDS), the replica chosen may not have
    replayed the project's first run yet: the snapshot reads the primary instead of failing."""
    from consistency.exports import rows as export_rows_module
    from consistency.exports.source import REPLICA, ExportSource
    from consistency.services import exports as exports_service

    real_context = export_rows_module.export_context
    asked: list[str] = []

    def context(*, project, params, using="default"):
        asked.append(using)
        ctx = real_context(project=project, params=params, using="default")
        # What the replica holds: everything but the run (not replayed yet).
        return dataclasses.replace(ctx, run=None) if using == REPLICA else ctx

    monkeypatch.setattr(
        exports_service, "export_source_get", lambda: ExportSource(alias=REPLICA, lag_seconds=2.0)
    )
    monkeypatch.setattr(exports_service, "export_context", context)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).post(
            f"/api/projects/{project_with_run.id}/snapshots/", {}, format="json"
        )
    job = client_for(staff).get(response["Location"]).json()
    assert job["status"] == "succeeded", job
    assert asked[-2:] == [REPLICA, "default"]  # the job: the replica, then the primary
    assert job["result"]["source"] == {
        "read_from": "primary",
        "replica_lag_seconds": None,
        "replica_skipped": "behind",
    }
    assert job["result"]["row_count"] == 40
