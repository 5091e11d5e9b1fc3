from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from consistency.models import AgreementRun
from core.jobs.models import Job
from core.jobs.reaper import stuck_work_reap
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def test_work_whose_worker_vanished_is_marked_failed(project, staff, settings):
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 600)
    stuck = Job.objects.create(kind="export", project=project, status="running", started_at=long_ago)
    fresh = Job.objects.create(kind="export", project=project, status="running", started_at=timezone.now())
    run = AgreementRun.objects.create(
        project=project, schema_version=project.schema_version, status="running", started_at=long_ago
    )
    assert stuck_work_reap() == {"jobs": 1, "agreement_runs": 1}
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    run.refresh_from_db()
    assert stuck.status == "failed" and "worker" in stuck.error and fresh.status == "running"
    assert run.status == "failed"


def test_password_change_revokes_api_tokens(staff):
    client = client_for(staff)
    assert client.get("/api/projects/").status_code == 200
    staff.set_password("a-new-password-123")
    staff.save()
    assert not Token.objects.filter(user=staff).exists()
    assert client.get("/api/projects/").status_code == 401


def test_tokens_are_read_from_the_header_only(staff, api_client):
    token = Token.objects.create(user=staff)
    assert api_client.get(f"/api/projects/?token={token.key}").status_code == 401
    assert api_client.get("/api/projects/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200


def test_login_is_rate_limited_and_does_not_reveal_accounts(client, staff, settings):
    attempts = []
    for username in [staff.username, "nobody-by-that-name"]:
        response = client.post("/login/", {"username": username, "password": "wrong"})
        attempts.append((response.status_code, "didn't match" in response.content.decode()))
    assert attempts[0] == attempts[1] == (200, True)  # the same answer for known and unknown users
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": staff.username, "password": "wrong"})
    locked = client.post("/login/", {"username": staff.username, "password": "correct-horse-battery"})
    assert locked.status_code == 429
