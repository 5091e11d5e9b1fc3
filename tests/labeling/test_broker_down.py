"""Redis stopped under a running app: labeling goes on, enqueueing says 503, and it recovers.

Real parts end to end: gunicorn with production settings on the test database, and a Redis
server of the test's own (on a free port, so the shared one stays up) that the test stops and
starts again.
"""

import shutil
import subprocess

import pytest
import redis
from rest_framework.authtoken.models import Token

from bench._setup import free_port, start_gunicorn, stop_gunicorn
from core.jobs.models import Job
from labeling.models import Role
from tests.factories import ItemFactory, MembershipFactory
from tests.helpers import http_json
from tests.worker import live_database_url, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _redis_server(port: int) -> subprocess.Popen:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed for this test (Debian's redis-server package)"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: _pings(port), timeout=10)
    return process


def _pings(port: int) -> bool:
    try:
        return redis.Redis(port=port, socket_connect_timeout=0.2).ping()
    except redis.RedisError:
        return False


def test_with_redis_stopped_labeling_goes_on_and_jobs_answer_503_until_it_is_back(project, staff):
    ItemFactory.create_batch(3, project=project)
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    labeler_token = Token.objects.create(user=labeler).key
    staff_token = Token.objects.create(user=staff).key
    port = free_port()
    broker = _redis_server(port)
    server, base = start_gunicorn(
        workers=1,
        extra_env={"DATABASE_URL": live_database_url(), "REDIS_URL": f"redis://127.0.0.1:{port}/0"},
    )
    try:
        assert http_json(base + "/readyz")[0] == 200
        broker.terminate()
        broker.wait(timeout=10)
        assert not _pings(port)

        status, _, item = http_json(base + f"/api/projects/{project.id}/next/", token=labeler_token)
        assert status == 200  # answers live in PostgreSQL: labeling needs no broker
        status, _, answer = http_json(
            base + f"/api/items/{item['id']}/annotations/",
            token=labeler_token,
            method="POST",
            body={"value": "dent"},
        )
        assert status == 201, answer

        status, headers, body = http_json(
            base + f"/api/projects/{project.id}/stats/refresh/", token=staff_token, method="POST"
        )
        assert status == 503 and int(headers["Retry-After"]) > 0
        assert body["error"]["code"] == "service_unavailable"
        failed = Job.objects.get(project=project)
        assert failed.status == "failed" and "unreachable" in failed.error  # never a fake "accepted"
        status, _, ready = http_json(base + "/readyz")
        assert status == 503 and ready["checks"] == {"database": "ok", "broker": "down"}

        broker = _redis_server(port)  # Redis is back: the same request is accepted
        status, headers, job = http_json(
            base + f"/api/projects/{project.id}/stats/refresh/", token=staff_token, method="POST"
        )
        assert status == 202 and headers["Location"].endswith(f"/api/jobs/{job['id']}/")
        assert redis.Redis(port=port).llen("concord") == 1  # really queued for a worker
        assert http_json(base + "/readyz")[0] == 200
    finally:
        stop_gunicorn(server)
        broker.terminate()
        broker.wait(timeout=10)
