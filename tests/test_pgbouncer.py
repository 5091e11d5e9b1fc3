"""Through PgBouncer in transaction pooling mode (DATABASE_POOLER=pgbouncer): gunicorn imports,
serves the labeling loop, computes a run, exports and freezes a snapshot; PgBouncer restarted
under load makes requests fail cleanly (503 in the error shape, nothing half-stored) and the
next request works."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings
from django.db.models import Count, F, Q

from bench._setup import start_gunicorn, stop_gunicorn
from labeling.models import Annotation, Assignment, AssignmentStatus, DataType, Item, Role
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.pgbouncer import pgbouncer  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db(transaction=True)
LABELERS = 4


def _token(user) -> dict:
    from rest_framework.authtoken.models import Token

    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def _label(base: str, project_id: int, headers: dict, stop: threading.Event) -> list[tuple[int, dict]]:
    """next → submit until stopped; every response's (status, error body or {})."""
    seen = []
    with requests.Session() as http:
        while not stop.is_set():
            try:
                nxt = http.get(f"{base}/api/projects/{project_id}/next/", headers=headers, timeout=10)
                seen.append((nxt.status_code, nxt.json() if nxt.status_code >= 400 else {}))
                if nxt.status_code != 200:
                    time.sleep(0.05)
                    continue
                value = "yes" if nxt.json()["id"] % 3 else "no"
                sent = http.post(
                    f"{base}/api/items/{nxt.json()['id']}/annotations/",
                    json={"value": value},
                    headers=headers,
                    timeout=10,
                )
                seen.append((sent.status_code, sent.json() if sent.status_code >= 400 else {}))
            except requests.ConnectionError:  # gunicorn itself never goes away in this test
                seen.append((0, {}))
    return seen


def test_labeling_imports_runs_and_exports_through_pgbouncer_and_survive_its_restart(staff, pgbouncer):  # noqa: F811
    project = ProjectFactory(created_by=staff, data_type=DataType.RECORD, classes=["yes", "no"], overlap=2)
    labelers = [UserFactory() for _ in range(LABELERS)]
    for user in labelers:
        MembershipFactory(project=project, user=user, role=Role.LABELER)
    manager = _token(staff)
    server, base = start_gunicorn(
        workers=2,
        extra_env={
            **pgbouncer.django_env(),
            "LOG_LEVEL": "CRITICAL",  # the 503s during the restart are expected
            "SECRET_KEY": settings.SECRET_KEY,
            # No REDIS_URL: jobs and runs execute in the web process, so they too go through PgBouncer.
            "CONCORD_IMPORT_INLINE_MAX_BYTES": "1000",  # the CSV below is a job: COPY through PgBouncer
        },
    )
    try:
        csv = b"external_id,text\n" + b"".join(b"r%d,row %d\n" % (i, i) for i in range(400))
        upload = requests.post(
            f"{base}/api/projects/{project.id}/items/",
            files={"file": ("rows.csv", csv, "text/csv")},
            headers=manager,
            timeout=60,
        )
        assert upload.status_code == 202, upload.text
        job = requests.get(f"{base}/api/jobs/{upload.json()['id']}/", headers=manager, timeout=10).json()
        assert job["status"] == "succeeded" and job["result"]["created"] == 400, job

        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=LABELERS) as pool:
            loops = [pool.submit(_label, base, project.id, _token(u), stop) for u in labelers]
            time.sleep(2)
            pgbouncer.restart()  # every client and server connection cut mid-load
            time.sleep(2)
            stop.set()
            results = [loop.result() for loop in loops]
        statuses = [status for seen in results for status, _ in seen]
        assert statuses.count(503) > 0  # the restart really cut requests off (seen: 35 of 324)
        assert set(statuses) <= {200, 201, 204, 503}, sorted(set(statuses))
        assert statuses.count(201) > 20  # real work happened before and after the restart
        for status, body in (pair for seen in results for pair in seen):
            if status == 503:
                assert body["error"]["code"] == "database_unavailable", body
        # The next request of each labeler works.
        for user in labelers:
            nxt = requests.get(f"{base}/api/projects/{project.id}/next/", headers=_token(user), timeout=10)
            assert nxt.status_code in {200, 204}, nxt.text

        # Nothing partial: each answered assignment has exactly one current answer, no item
        # holds more slots than its target, no labeler answered an item twice.
        answers = Annotation.objects.filter(item__project=project, is_current=True, skip_reason="")
        submitted = Assignment.objects.filter(project=project, status=AssignmentStatus.SUBMITTED)
        assert answers.count() == submitted.count() > 20
        assert not Item.objects.filter(project=project, slots_taken__gt=F("target")).exists()
        assert not answers.values("item", "labeler").annotate(n=Count("pk")).filter(n__gt=1).exists()
        held = Count("assignments", filter=Q(assignments__status__in=["submitted", "reserved", "skipped"]))
        assert (
            not Item.objects.filter(project=project).annotate(h=held).filter(slots_taken__lt=F("h")).exists()
        )

        run = requests.post(
            f"{base}/api/projects/{project.id}/agreement-runs/", json={}, headers=manager, timeout=60
        )
        assert run.status_code == 202, run.text
        run = requests.get(
            f"{base}/api/agreement-runs/{run.json()['id']}/", headers=manager, timeout=60
        ).json()
        assert run["status"] == "succeeded", run
        export = requests.get(
            f"{base}/api/projects/{project.id}/export/?format=jsonl", headers=manager, timeout=60
        )
        assert export.status_code == 200
        rows = [json.loads(line) for line in export.text.splitlines()]
        answered = Item.objects.filter(project=project, assignments__status="submitted").distinct().count()
        assert len(rows) == answered and {"external_id", "consensus", "split"} <= set(rows[0])
        snap = requests.post(
            f"{base}/api/projects/{project.id}/snapshots/", json={}, headers=manager, timeout=60
        )
        assert snap.status_code == 202, snap.text
        job = requests.get(f"{base}/api/jobs/{snap.json()['id']}/", headers=manager, timeout=60).json()
        assert job["status"] == "succeeded" and job["result"]["row_count"] == len(rows), job
    finally:
        stop_gunicorn(server)
