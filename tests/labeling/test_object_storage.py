"""Files in an S3 bucket (moto's server, a real S3 API): uploads, thumbnails and snapshots are
stored there and nothing under MEDIA_ROOT; browsers get short-lived presigned URLs after the
membership check; an unreachable bucket refuses new files with 503 while labeling goes on."""

import hashlib
import re
import time
import urllib.parse

import numpy as np
import pytest
import requests

from core.jobs.models import Job
from labeling.models import DataType, Item, Role
from labeling.storage import presigned_url
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.helpers import client_for, error_code
from tests.labeling.imports.samples import audio, named, png, tone, zip_of
from tests.objectstore import files_under, use_bucket

pytestmark = pytest.mark.django_db


def _media_redirect(client, item: Item, variant: str = "media") -> str:
    response = client.get(f"/items/{item.id}/media/{variant}/")
    assert response.status_code == 302, response.status_code
    assert response["Cache-Control"] == "private, no-store"
    return response["Location"]


def test_imported_images_and_thumbnails_go_to_the_bucket_and_media_by_presigned_url(
    staff, bucket, django_capture_on_commit_callbacks
):
    project = ProjectFactory(created_by=staff, data_type=DataType.IMAGE)
    images = {f"img-{i}.png": png(color=(i * 40, 10, 10)) for i in range(3)}
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).post(
            f"/api/projects/{project.id}/items/", {"file": named("b.zip", zip_of(images))}, format="multipart"
        )
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == "succeeded" and job.result["created"] == 3, job.error
    keys = bucket.object_keys()
    assert sum(k.startswith("items/") for k in keys) == 3 and sum(k.startswith("thumbs/") for k in keys) == 3
    assert not any(k.startswith("imports/") for k in keys)  # the uploaded zip was removed after the job
    assert files_under(bucket.media_root) == []

    item = Item.objects.get(project=project, original_filename="img-1.png")
    browser = client_for(staff)
    browser.force_login(staff)
    url = _media_redirect(browser, item)
    assert url.startswith(bucket.env["AWS_S3_ENDPOINT_URL"]) and "X-Amz-Signature=" in url
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == images["img-1.png"]
    assert got.headers["Content-Type"] == "image/png"
    thumb = requests.get(_media_redirect(browser, item, "thumbnail"), timeout=10)
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"  # a JPEG

    # The URL is signed (SigV4: moto serves it but, unlike S3 and MinIO, checks no signature),
    # expires after CONCORD_MEDIA_URL_SECONDS, and names a key with 128 random bits in it.
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["X-Amz-Expires"] == "300" and len(query["X-Amz-Signature"]) == 64
    assert re.fullmatch(r"items/\d{4}/\d{2}/[0-9a-f]{32}\.png", item.media.name)

    outsider = UserFactory()
    other = client_for(outsider)
    other.force_login(outsider)
    assert other.get(f"/items/{item.id}/media/media/").status_code == 404  # no URL for non-members


def test_a_presigned_url_lives_as_long_as_the_setting_says(bucket, settings, db):
    settings.AWS_QUERYSTRING_EXPIRE = 60
    url = presigned_url("items/x.wav", content_type="audio/wav", attachment="item-1.wav")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["X-Amz-Expires"] == "60"
    assert query["response-content-type"] == "audio/wav"
    assert query["response-content-disposition"] == 'attachment; filename="item-1.wav"'


def test_audio_from_the_bucket_answers_range_requests(staff, bucket, django_capture_on_commit_callbacks):
    project = ProjectFactory(
        created_by=staff, data_type=DataType.AUDIO, label_kind="transcription", classes=[]
    )
    wav = audio(tone(1.0))
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).post(
            f"/api/projects/{project.id}/items/", {"file": named("a.wav", wav)}, format="multipart"
        )
    assert response.status_code == 202, response.json()
    item = Item.objects.get(project=project)
    assert item.waveform  # the peaks were stored beside the clip
    browser = client_for(staff)
    browser.force_login(staff)
    url = _media_redirect(browser, item)
    part = requests.get(url, headers={"Range": "bytes=100-199"}, timeout=10)
    assert part.status_code == 206 and part.content == wav[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(wav)}"
    assert part.headers["Content-Type"] == "audio/wav"
    # The workspace fetches the clip after the app's redirect: the bucket allows it (CORS).
    cors = requests.get(url, headers={"Origin": "http://127.0.0.1:8000"}, timeout=10)
    assert cors.headers.get("Access-Control-Allow-Origin") in {"*", "http://127.0.0.1:8000"}


def test_the_page_policy_allows_the_bucket_for_media_only(staff, bucket, client):
    from core.http.security import content_security_policy

    policy = dict(part.split(" ", 1) for part in content_security_policy().split("; "))
    endpoint = bucket.env["AWS_S3_ENDPOINT_URL"]
    assert (
        endpoint in policy["img-src"]
        and endpoint in policy["media-src"]
        and endpoint in policy["connect-src"]
    )
    assert endpoint not in policy["script-src"] and endpoint not in policy["default-src"]


def test_bucket_unreachable_refuses_uploads_and_snapshots_with_503_and_labeling_goes_on(
    staff, settings, monkeypatch, tmp_path, s3_endpoint
):
    from tests.objectstore import bucket_env, free_port

    project = ProjectFactory(created_by=staff, data_type=DataType.IMAGE, classes=["a", "b"], overlap=1)
    labeler = UserFactory()
    MembershipFactory(project=project, user=labeler, role=Role.LABELER)
    Item.objects.create(
        project=project, kind=DataType.IMAGE, external_id="x.png", media="items/x.png", target=1
    )
    # Nothing listens on this port: connections are refused, as when the bucket is down.
    down = bucket_env(f"http://127.0.0.1:{free_port()}", "concord-down")
    media_root = tmp_path / "media"
    media_root.mkdir()
    use_bucket(settings, monkeypatch, down, media_root)

    manager = client_for(staff)
    started = time.monotonic()
    response = manager.post(
        f"/api/projects/{project.id}/items/", {"file": named("y.png", png())}, format="multipart"
    )
    assert time.monotonic() - started < 15  # fails fast, doesn't hang the web worker
    assert response.status_code == 503 and error_code(response) == "storage_unavailable"
    assert int(response["Retry-After"]) > 0
    assert not Job.objects.exists() and Item.objects.filter(project=project).count() == 1

    from tests.helpers import agreement_run_now

    # Labeling of the item already there goes on; its media URL is still signed (locally).
    worker = client_for(labeler)
    nxt = worker.get(f"/api/projects/{project.id}/next/")
    assert nxt.status_code == 200
    answer = worker.post(f"/api/items/{nxt.json()['id']}/annotations/", {"value": "a"}, format="json")
    assert answer.status_code == 201, answer.json()
    worker.force_login(labeler)
    assert worker.get(f"/items/{nxt.json()['id']}/media/media/").status_code == 302

    agreement_run_now(project)
    snap = manager.post(f"/api/projects/{project.id}/snapshots/", {"format": "jsonl"}, format="json")
    assert snap.status_code == 503 and error_code(snap) == "storage_unavailable", snap.json()
    assert "Retry-After" in snap and not Job.objects.exists()
    assert files_under(media_root) == []


def test_snapshot_file_is_written_to_the_bucket_and_downloaded_by_presigned_url(
    staff, bucket, django_capture_on_commit_callbacks
):
    from tests.helpers import agreement_run_now

    project = ProjectFactory(created_by=staff, data_type=DataType.RECORD, classes=["a", "b"], overlap=2)
    labelers = [UserFactory() for _ in range(2)]
    for user in labelers:
        MembershipFactory(project=project, user=user, role=Role.LABELER)
    manager = client_for(staff)
    rows = [{"external_id": f"r{i}", "data": {"text": f"row {i}"}} for i in range(6)]
    assert manager.post(f"/api/projects/{project.id}/items/", rows, format="json").status_code in {200, 201}
    for user in labelers:
        worker = client_for(user)
        while (nxt := worker.get(f"/api/projects/{project.id}/next/")).status_code == 200:
            worker.post(f"/api/items/{nxt.json()['id']}/annotations/", {"value": "a"}, format="json")
    agreement_run_now(project)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager.post(f"/api/projects/{project.id}/snapshots/", {"format": "jsonl"}, format="json")
    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == "succeeded", job.error
    snapshot_id = job.result["snapshot_id"]
    download = manager.get(f"/api/snapshots/{snapshot_id}/download/")
    assert download.status_code == 302
    got = requests.get(download["Location"], timeout=10)
    assert got.status_code == 200 and hashlib.sha256(got.content).hexdigest() == download["X-Content-SHA256"]
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.content.count(b"\n") == 6
    assert any(k.startswith(f"snapshots/job{job.id}/") for k in bucket.object_keys())
    assert files_under(bucket.media_root) == []


def test_presigned_urls_can_name_the_bucket_as_browsers_reach_it(bucket, settings):
    """docker-compose: the app talks to http://minio:9000, browsers to http://localhost:9000."""
    from core.http.security import content_security_policy

    settings.CONCORD_MEDIA_ENDPOINT_URL = "http://media.example.test:9000"
    url = presigned_url("items/x.png", content_type="image/png")
    assert url.startswith(f"http://media.example.test:9000/{bucket.name}/items/x.png?")
    assert "X-Amz-Signature=" in url
    assert "img-src 'self' data: blob: http://media.example.test:9000" in content_security_policy()


def test_a_worker_reads_a_large_upload_from_the_bucket_through_a_temp_file_not_memory(bucket):
    """A 2 GB zip must not become 2 GB of worker memory: past 8 MB the download spills to disk."""
    import zipfile

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    entries = {f"noise-{i}.bin": np.random.default_rng(i).bytes(3 * 1024**2) for i in range(4)}  # 12 MB
    name = default_storage.save("imports/big/upload.zip", ContentFile(zip_of(entries)))
    with default_storage.open(name, "rb") as handle:
        spool = handle.file
        assert spool._rolled  # SpooledTemporaryFile moved to a file on disk
        with zipfile.ZipFile(handle) as archive:  # seekable: the zip reader works on it
            assert archive.read("noise-2.bin") == entries["noise-2.bin"]
