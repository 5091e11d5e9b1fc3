"""Exports read a real streaming replica (DATABASE_REPLICA_URL): gunicorn on a temporary primary
and its hot standby (tests/replica.py). With replay paused on the standby, a decision made on the
primary is missing from an export read on the replica (so the rows came from it) while the
primary's pages have it; by default an export never reads a replica behind the primary (it
waits, then reads the primary: decisions stay live); a stopped replica leaves exports on the
primary, never failing them; snapshot rows are read on the replica and written on the primary."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bench._setup import start_gunicorn, stop_gunicorn
from tests.replica import SEED_ITEMS, replica_pair  # noqa: F401 — the fixture

# The tests talk to the pair only; the mark has pytest-django create the system cluster's test
# database, whose schema the pair's primary is loaded with.
pytestmark = pytest.mark.django_db
WAIT = 0.5  # CONCORD_REPLICA_WAIT_SECONDS of the strict server: a paused replica costs this


@pytest.fixture(scope="module")
def servers(replica_pair):  # noqa: F811
    """The seeded project and two gunicorns on the pair: ``strict`` (the default: the replica
    only when caught up) and ``tolerant`` (CONCORD_REPLICA_MAX_LAG_SECONDS=3600)."""
    env = {
        "DATABASE_URL": replica_pair.url("primary"),
        "DATABASE_REPLICA_URL": replica_pair.url("standby"),
        "MEDIA_ROOT": str(replica_pair.folder / "media"),
        "CONCORD_REPLICA_WAIT_SECONDS": str(WAIT),
        "LOG_LEVEL": "ERROR",
    }
    # The servers and the seeding process import Django while the clusters start.
    seeding = replica_pair.seed_start()
    pool = ThreadPoolExecutor(max_workers=2)
    starts = [
        pool.submit(start_gunicorn, workers=1, extra_env=env),
        pool.submit(start_gunicorn, workers=1, extra_env={**env, "CONCORD_REPLICA_MAX_LAG_SECONDS": "3600"}),
    ]
    try:
        seed = replica_pair.seed(seeding)
        (_, strict), (_, tolerant) = (start.result() for start in starts)
        yield {"strict": strict, "tolerant": tolerant, **seed}
    finally:
        if seeding.poll() is None:
            seeding.kill()
        servers = [start.result()[0] for start in starts if start.exception() is None]
        stop_gunicorn(*servers)
        pool.shutdown()


def _headers(servers) -> dict:
    return {"Authorization": f"Token {servers['token']}"}


def _export(servers, which: str, fmt: str = "jsonl") -> tuple[requests.Response, list[dict]]:
    url = f"{servers[which]}/api/projects/{servers['project']}/export/"
    response = requests.get(url, params={"format": fmt}, headers=_headers(servers), timeout=30)
    assert response.status_code == 200, response.text
    if fmt == "label_studio":
        return response, [{"external_id": t["meta"]["external_id"]} for t in response.json()]
    if fmt == "csv":
        lines = response.text.splitlines()
        return response, [dict(zip(lines[0].split(","), line.split(","), strict=False)) for line in lines[1:]]
    return response, [json.loads(line) for line in response.text.splitlines()]


def _add_and_resolve(servers, external_id: str) -> None:
    """A new item and a reviewer's decision on it, on the primary (through the strict server)."""
    base, headers = servers["strict"], _headers(servers)
    added = requests.post(
        f"{base}/api/projects/{servers['project']}/items/",
        json=[{"external_id": external_id, "data": {"n": -1}}],
        headers=headers,
        timeout=30,
    )
    assert added.status_code == 201, added.text
    item_id = _primary_item_ids(servers)[external_id]
    resolved = requests.post(
        f"{base}/api/items/{item_id}/review/",
        json={"action": "resolve", "value": "no", "expected_version": 0},
        headers=headers,
        timeout=30,
    )
    assert resolved.status_code == 200, resolved.text


def _primary_item_ids(servers) -> dict[str, int]:
    """The items page of the API: read on the primary, whatever the replica holds."""
    url = f"{servers['strict']}/api/projects/{servers['project']}/items/?limit=1000"
    body = requests.get(url, headers=_headers(servers), timeout=30).json()
    return {row["external_id"]: row["id"] for row in body["results"]}


def _snapshot(servers, which: str) -> dict:
    base, headers = servers[which], _headers(servers)
    started = requests.post(
        f"{base}/api/projects/{servers['project']}/snapshots/", json={}, headers=headers, timeout=60
    )
    assert started.status_code == 202, started.text
    for _ in range(100):
        job = requests.get(f"{base}/api/jobs/{started.json()['id']}/", headers=headers, timeout=30).json()
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    assert job["status"] == "succeeded", job
    return job["result"]


def test_exports_read_the_replica_and_a_decision_the_replica_lacks_is_never_lost(replica_pair, servers):  # noqa: F811
    replica_pair.wait_caught_up()
    for fmt in ("jsonl", "csv", "label_studio"):  # the SQL fast path and the Python path
        response, rows = _export(servers, "strict", fmt)
        assert response.headers["X-Concord-Read-From"] == "replica", fmt
        assert response.headers["X-Concord-Replica-Lag"] == "0.000"  # caught up with the primary
        assert len(rows) == SEED_ITEMS

    replica_pair.pause_replay()
    try:
        _add_and_resolve(servers, "late-decision")
        assert "late-decision" in _primary_item_ids(servers)  # the primary's page has it

        # Tolerant: read on the paused replica, which has not replayed the new item and decision.
        for fmt in ("jsonl", "label_studio"):
            response, rows = _export(servers, "tolerant", fmt)
            assert response.headers["X-Concord-Read-From"] == "replica"
            assert float(response.headers["X-Concord-Replica-Lag"]) > 0
            assert "late-decision" not in {r["external_id"] for r in rows}
            assert len(rows) == SEED_ITEMS
        snapshot = _snapshot(servers, "tolerant")  # rows from the replica, the snapshot row on the primary
        assert snapshot["source"]["read_from"] == "replica" and snapshot["row_count"] == SEED_ITEMS

        # Strict (the default): the replica is behind, so after waiting the primary serves it.
        began = time.monotonic()
        response, rows = _export(servers, "strict")
        assert time.monotonic() - began >= WAIT
        assert response.headers["X-Concord-Read-From"] == "primary"
        assert response.headers["X-Concord-Replica-Skipped"] == "behind"
        late = [r for r in rows if r["external_id"] == "late-decision"]
        assert len(late) == 1 and late[0]["label"] == "no" and late[0]["label_source"] == "resolved"
    finally:
        replica_pair.resume_replay()

    replica_pair.wait_caught_up()
    for which in ("strict", "tolerant"):
        response, rows = _export(servers, which)
        assert response.headers["X-Concord-Read-From"] == "replica"
        assert "late-decision" in {r["external_id"] for r in rows}
        assert len(rows) == SEED_ITEMS + 1


def _ready(servers, which: str) -> tuple[int, dict]:
    response = requests.get(f"{servers[which]}/readyz", timeout=30)
    return response.status_code, response.json()


def test_an_unreachable_replica_leaves_exports_and_snapshots_on_the_primary(replica_pair, servers):  # noqa: F811
    replica_pair.wait_caught_up()
    from_replica = _export(servers, "tolerant")
    assert from_replica[0].headers["X-Concord-Read-From"] == "replica"
    status, ready = _ready(servers, "strict")
    assert status == 200 and ready["checks"]["replica"] == "ok", ready
    assert isinstance(ready["replica_lag_seconds"], float) and ready["replica_lag_seconds"] >= 0
    replica_pair.stop_standby()
    try:
        # Reported, not a reason to take the node out: exports fall back to the primary.
        status, ready = _ready(servers, "strict")
        assert status == 200 and ready["status"] == "ok", ready
        assert ready["checks"] == {"database": "ok", "broker": "ok", "replica": "down"}
        assert ready["replica_lag_seconds"] is None
        for which in ("strict", "tolerant"):
            for fmt in ("jsonl", "label_studio"):
                response, rows = _export(servers, which, fmt)
                assert response.headers["X-Concord-Read-From"] == "primary"
                assert response.headers["X-Concord-Replica-Skipped"] == "unreachable"
                assert {r["external_id"] for r in rows} == {r["external_id"] for r in from_replica[1]}
        snapshot = _snapshot(servers, "strict")
        assert snapshot["source"] == {
            "read_from": "primary",
            "replica_lag_seconds": None,
            "replica_skipped": "unreachable",
        }
        assert snapshot["row_count"] == len(from_replica[1])
    finally:
        replica_pair.start_standby()
