"""Past one machine: two gunicorn instances (as the Dockerfile starts them) and a Celery worker
process share PostgreSQL, Redis and an S3 bucket (moto's server) and nothing else. Upload on
one, label and download on the other; the reset-mail cap is counted across both; nothing is
written under MEDIA_ROOT."""

import hashlib
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings
from django.test import Client

from bench._setup import start_gunicorn, stop_gunicorn
from labeling.models import DataType, Role
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.labeling.imports.samples import png, zip_of
from tests.objectstore import files_under
from tests.worker import celery_worker_process, live_database_url  # noqa: F401 — the fixture

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _token(user) -> dict:
    from rest_framework.authtoken.models import Token

    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def _until(url: str, headers: dict, done, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = requests.get(url, headers=headers, timeout=10).json()
        if done(body):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{url} not done in {timeout}s: {body}")


def _finished(body: dict) -> bool:
    return body.get("status") in {"succeeded", "failed"}


def _session_cookie(user) -> str:
    """A session in the shared database, as a login on any node would make."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def _reset_request(base: str, email: str) -> int:
    """POST the reset form with a CSRF pair made here (the form's cookie and field agree)."""
    csrf = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret
    response = requests.post(
        f"{base}/password-reset/",
        data={"email": email, "csrfmiddlewaretoken": csrf},
        headers={"Cookie": f"csrftoken={csrf}", "Referer": f"{base}/password-reset/"},
        allow_redirects=False,
        timeout=10,
    )
    return response.status_code


@pytest.fixture
def two_nodes(bucket, celery_worker_process, tmp_path):  # noqa: F811
    """Two gunicorn instances on two ports, production settings, the bucket in their env."""
    env = {
        "DATABASE_URL": live_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,  # sessions made here are read there
        "DB_CONN_MAX_AGE": "0",
        "LOG_LEVEL": "WARNING",
    }
    logs = [(tmp_path / f"{name}.log").open("w") for name in ("a", "b")]
    nodes = []
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:  # both start at once
            starting = [pool.submit(start_gunicorn, workers=1, extra_env=env, stdout=log) for log in logs]
            nodes = [future.result() for future in starting]
        yield [base for _, base in nodes], [tmp_path / "a.log", tmp_path / "b.log"]
    finally:
        stop_gunicorn(*(process for process, _ in nodes))
        for log in logs:
            log.close()


def test_upload_on_one_node_label_and_download_on_the_other_with_a_shared_cap(staff, bucket, two_nodes):
    (a, b), logs = two_nodes
    project = ProjectFactory(created_by=staff, data_type=DataType.IMAGE, classes=["cat", "dog"], overlap=2)
    labelers = [UserFactory(email=f"labeler{i}@example.org") for i in range(2)]
    for user in labelers:
        MembershipFactory(project=project, user=user, role=Role.LABELER)
    manager = _token(staff)

    images = {f"img-{i}.png": png(color=(i * 50, 20, 20)) for i in range(4)}
    upload = requests.post(
        f"{a}/api/projects/{project.id}/items/",
        files={"file": ("batch.zip", zip_of(images), "application/zip")},
        headers=manager,
        timeout=30,
    )
    assert upload.status_code == 202, upload.text
    job = _until(f"{b}/api/jobs/{upload.json()['id']}/", manager, _finished)  # the worker ran it
    assert job["status"] == "succeeded" and job["result"]["created"] == 4, job

    seen = {}
    for user in labelers:
        headers, cookie = _token(user), {"Cookie": _session_cookie(user)}
        while (nxt := requests.get(f"{b}/api/projects/{project.id}/next/", headers=headers, timeout=10)).ok:
            if nxt.status_code == 204:
                break
            item = nxt.json()
            media = requests.get(f"{b}{item['media_url']}", headers=cookie, allow_redirects=False, timeout=10)
            assert media.status_code == 302
            assert media.headers["Location"].startswith(bucket.env["AWS_S3_ENDPOINT_URL"])
            seen[item["id"]] = requests.get(media.headers["Location"], timeout=10).content
            answer = requests.post(
                f"{b}/api/items/{item['id']}/annotations/", json={"value": "cat"}, headers=headers, timeout=10
            )
            assert answer.status_code == 201, answer.text
    assert len(seen) == 4 and sorted(seen.values()) == sorted(images.values())

    run = requests.post(
        f"{a}/api/projects/{project.id}/agreement-runs/", json={}, headers=manager, timeout=10
    )
    assert run.status_code == 202, run.text
    run = _until(f"{b}/api/agreement-runs/{run.json()['id']}/", manager, _finished)
    assert run["status"] == "succeeded", run
    snap = requests.post(
        f"{b}/api/projects/{project.id}/snapshots/", json={"format": "jsonl"}, headers=manager, timeout=10
    )
    assert snap.status_code == 202, snap.text
    job = _until(f"{a}/api/jobs/{snap.json()['id']}/", manager, _finished)
    assert job["status"] == "succeeded", job
    download = requests.get(
        f"{a}/api/snapshots/{job['result']['snapshot_id']}/download/",
        headers=manager,
        allow_redirects=False,
        timeout=10,
    )
    assert download.status_code == 302
    body = requests.get(download.headers["Location"], timeout=10).content
    assert hashlib.sha256(body).hexdigest() == download.headers["X-Content-SHA256"]
    assert body.count(b"\n") == 4

    # The reset-mail cap (3 an hour to one address) holds across both nodes: 5 requests, 3 mails.
    statuses = [_reset_request(node, "labeler0@example.org") for node in (a, b, a, b, a)]
    assert statuses == [302] * 5  # the same answer whether a mail went out or not
    time.sleep(0.5)
    mails = sum(log.read_text().count("Subject: ") for log in logs)
    assert mails == 3

    assert files_under(bucket.media_root) == []
    assert any(k.startswith("items/") for k in bucket.object_keys())
