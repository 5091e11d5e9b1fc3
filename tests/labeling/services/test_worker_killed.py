"""A worker process killed in the middle of a job: the job is redelivered and ends exactly once."""

import io
import os
import signal
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.jobs.models import Job
from labeling.models import Item
from tests.helpers import client_for
from tests.worker import celery_worker_process, wait_for, worker_child_pid  # noqa: F401 — fixture


def _zip_of_images(n: int) -> bytes:
    rng = np.random.default_rng(0)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(n):
            pixels = rng.integers(0, 255, (400, 400, 3), dtype=np.uint8)
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, "PNG")
            z.writestr(f"img-{i}.png", buffer.getvalue())
    return archive.getvalue()


@pytest.mark.worker
@pytest.mark.parametrize("celery_worker_process", ["prefork"], indirect=True)
def test_import_job_survives_a_killed_worker_without_duplicates(
    project,
    staff,
    celery_worker_process,  # noqa: F811 — the fixture, parametrized
):
    # The worker process reads uploads from the test settings' MEDIA_ROOT: keep that one.
    upload = io.BytesIO(_zip_of_images(60))
    upload.name = "batch.zip"
    response = client_for(staff).post(
        f"/api/projects/{project.id}/items/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 202
    job_id = response.json()["id"]
    wait_for(lambda: Item.objects.filter(project=project).count() >= 5, timeout=60)
    child = worker_child_pid(celery_worker_process)
    assert child is not None
    os.kill(child, signal.SIGKILL)  # mid-job: some items are in, most are not
    job = wait_for(
        lambda: Job.objects.filter(pk=job_id, status__in=["succeeded", "failed"]).first(), timeout=120
    )
    assert job.status == "succeeded", job.error
    assert job.attempts == 2
    assert Item.objects.filter(project=project).count() == 60  # exactly once each
    assert job.result["created"] + job.result["skipped_existing"] == 60
