"""`make run`'s embedded default, end to end: SQLite, tasks in-process, demo data, the dev server.

The rest of the suite runs on PostgreSQL, where the assignment engine takes its SQL fast
paths; here the ORM path that SQLite uses is driven over HTTP by a labeler and a manager.
"""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bench._setup import free_port
from tests.helpers import http_json

ROOT = Path(__file__).resolve().parent.parent


def _manage(env, *args) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _call(base, path, token, method="GET", body=None):
    status, _, data = http_json(base + path, token=token, method=method, body=body)
    return status, data


@pytest.fixture(scope="module")
def local_server(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{var / 'concord.sqlite3'}",
        MEDIA_ROOT=str(var / "media"),
        SECRET_KEY="local-sqlite-test",
    )
    _manage(env, "migrate", "--noinput")
    assert "Demo ready" in _manage(env, "demo")
    tokens = {name: _manage(env, "drf_create_token", name).split()[2] for name in ("labeler1", "manager")}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield base, tokens, env
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_labeler_labels_and_a_manager_measures_on_sqlite(local_server):
    base, tokens, _ = local_server
    status, projects = _call(base, "/api/projects/", tokens["labeler1"])
    assert status == 200 and projects["count"] == 3
    project = next(p for p in projects["results"] if p["label_kind"] == "classes")

    status, item = _call(base, f"/api/projects/{project['id']}/next/", tokens["labeler1"])
    assert status == 200
    again_status, again = _call(base, f"/api/projects/{project['id']}/next/", tokens["labeler1"])
    assert again_status == 200 and again["id"] == item["id"]  # one reservation per labeler
    status, _ = _call(base, f"/api/projects/{project['id']}/progress/", tokens["labeler1"])
    assert status == 200

    status, detail = _call(base, f"/api/projects/{project['id']}/", tokens["labeler1"])
    assert status == 200
    answer = {"value": detail["classes"][0]["name"]}
    status, submitted = _call(
        base, f"/api/items/{item['id']}/annotations/", tokens["labeler1"], method="POST", body=answer
    )
    assert status == 201, submitted
    assert submitted["next"] is None or submitted["next"]["id"] != item["id"]
    status, repeat = _call(
        base, f"/api/items/{item['id']}/annotations/", tokens["labeler1"], method="POST", body=answer
    )
    assert status == 200, repeat  # the same answer twice is stored once

    status, run = _call(
        base, f"/api/projects/{project['id']}/agreement-runs/", tokens["manager"], method="POST", body={}
    )
    assert status == 202, run
    status, detail = _call(base, f"/api/agreement-runs/{run['id']}/", tokens["manager"])
    assert status == 200 and detail["status"] == "succeeded", detail  # ran in-process
    assert 0 < detail["report"]["overall"]["alpha"] <= 1


def test_a_slice_filter_on_sqlite_is_a_text_comparison(local_server):
    """`/projects/1/review/?slice=factory:Chennai` answered 503: SQLite read "Chennai" as JSON."""
    base, tokens, _ = local_server
    _, projects = _call(base, "/api/projects/", tokens["manager"])
    images = next(p for p in projects["results"] if p["data_type"] == "image")
    runs = f"/api/projects/{images['id']}/agreement-runs/"
    status, run = _call(base, runs, tokens["manager"], method="POST", body={})
    assert status in (202, 409), run
    path = f"/api/projects/{images['id']}/disagreements/?slice=factory:Chennai"
    status, queue = _call(base, path, tokens["manager"])
    assert status == 200, queue
    status, everything = _call(base, f"/api/projects/{images['id']}/disagreements/", tokens["manager"])
    assert status == 200 and 0 < queue["count"] < everything["count"]
    status, odd = _call(base, path.replace("Chennai", '"x"[0]'), tokens["manager"])
    assert status == 200 and odd["count"] == 0


LABELERS = 30
SETUP = """
from rest_framework.authtoken.models import Token
from labeling.models import Item, Project, ProjectMembership, Role
from tests.factories import ProjectFactory, UserFactory
project = ProjectFactory(name="Crowd", overlap=3)
Item.objects.bulk_create(
    Item(project=project, kind="image", external_id=f"c{i}", target=3) for i in range(200)
)
for i in range(LABELERS):
    user = UserFactory(username=f"crowd{i}")
    ProjectMembership.objects.create(project=project, user=user, role=Role.LABELER)
    print("TOKEN", project.id, Token.objects.create(user=user).key)
""".replace("LABELERS", str(LABELERS))


def test_thirty_labelers_at_once_on_the_sqlite_default_get_no_errors(local_server):
    from concurrent.futures import ThreadPoolExecutor

    base, _, env = local_server
    made = [
        line.split() for line in _manage(env, "shell", "-c", SETUP).splitlines() if line.startswith("TOKEN")
    ]
    project_id, tokens = made[0][1], [token for _, _, token in made]
    assert len(tokens) == LABELERS
    deadline = time.monotonic() + 6

    def label(token: str) -> list[int]:
        statuses = []
        while time.monotonic() < deadline:
            status, item = _call(base, f"/api/projects/{project_id}/next/", token)
            statuses.append(status)
            if status != 200:
                break
            answer = f"/api/items/{item['id']}/annotations/?next=false"
            status, _ = _call(base, answer, token, method="POST", body={"value": "dent"})
            statuses.append(status)
        return statuses

    with ThreadPoolExecutor(max_workers=LABELERS) as pool:
        statuses = [s for result in pool.map(label, tokens) for s in result]
    assert set(statuses) <= {200, 201, 204}, sorted(set(statuses))
    assert statuses.count(201) >= 30, statuses.count(201)
