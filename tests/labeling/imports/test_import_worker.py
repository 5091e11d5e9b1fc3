"""The job path end to end: a real Celery worker process imports a large record file and a
zip of images sent through the API."""

import io

import numpy as np
import pytest

from core.jobs.models import Job
from labeling.models import DataType, Item
from tests.factories import ProjectFactory
from tests.helpers import client_for
from tests.labeling.imports.samples import jpeg, named, zip_of
from tests.worker import celery_worker_process, wait_for  # noqa: F401 — the fixture


def _finished(job_id: int) -> Job | None:
    return Job.objects.filter(pk=job_id, status__in=["succeeded", "failed"]).first()


@pytest.mark.worker
def test_a_worker_imports_large_records_and_a_zip_of_images(staff, settings, celery_worker_process):  # noqa: F811
    # The worker reads uploads from the test settings' MEDIA_ROOT: keep that one.
    settings.CONCORD_IMPORT_INLINE_MAX_BYTES = 1000
    client = client_for(staff)
    pairs = ProjectFactory(created_by=staff, name="Pairs", data_type=DataType.RECORD, classes=["1", "0"])
    rows = b"".join(b"r%d,Ann %d,Anne %d,R%d\n" % (i, i, i, i % 4) for i in range(3000))
    upload = named("pairs.csv", b"external_id,left.name,right.name,region\n" + rows)
    response = client.post(
        f"/api/projects/{pairs.id}/items/", {"file": upload, "metadata_columns": "region"}, format="multipart"
    )
    assert response.status_code == 202
    job = wait_for(lambda: _finished(response.json()["id"]), timeout=60)
    assert job.status == "succeeded", job.error
    assert job.result["created"] == 3000 and job.progress == 100
    item = Item.objects.get(project=pairs, external_id="r7")
    assert item.data == {"left": {"name": "Ann 7"}, "right": {"name": "Anne 7"}} and item.metadata == {
        "region": "R3"
    }

    images = ProjectFactory(created_by=staff, name="Photos", data_type=DataType.IMAGE)
    rng = np.random.default_rng(1)
    entries = {f"img-{i}.jpg": jpeg(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)) for i in range(20)}
    entries["metadata.csv"] = b"file,camera\n" + b"".join(b"img-%d.jpg,c%d\n" % (i, i % 2) for i in range(20))
    response = client.post(
        f"/api/projects/{images.id}/items/", {"file": named("batch.zip", zip_of(entries))}, format="multipart"
    )
    assert response.status_code == 202
    job = wait_for(lambda: _finished(response.json()["id"]), timeout=60)
    assert job.status == "succeeded", job.error
    assert job.result["created"] == 20 and job.result["rejected_count"] == 0
    made = Item.objects.filter(project=images)
    assert made.count() == 20 and all(i.thumbnail and i.quality["width"] == 64 for i in made)
    assert sorted({i.metadata["camera"] for i in made}) == ["c0", "c1"]
    assert io.BytesIO(made.first().thumbnail.read()).getbuffer().nbytes > 0


@pytest.mark.django_db(transaction=True)
def test_progress_of_a_one_transaction_import_is_visible_at_once(staff):
    from django.db import transaction

    from labeling.services.items.run import _progress_from_another_connection

    job = Job.objects.create(kind="import_items", status="running", created_by=staff)
    with transaction.atomic():
        _progress_from_another_connection(job.id)(42)
        transaction.set_rollback(True)  # the import fails: its progress was still shown
    job.refresh_from_db()
    assert job.progress == 42
