"""The fast path reads alternate blocks of item ids on two connections at once (two PostgreSQL
backends) and merges them in item order: the bytes are those of one connection, whatever the
blocks and batches, and both connections read one snapshot."""

import time

import psycopg
import pytest
from django.db import connection, transaction

from consistency.exports import fast
from consistency.exports.params import parse_export_params
from consistency.exports.stream import export_stream
from labeling.models import Item
from tests.factories import ItemFactory, ProjectFactory, finished_run

# Outside a test transaction: inside one (as inside any caller's) the export reads on one connection.
pytestmark = pytest.mark.django_db(transaction=True)


class _Query(dict):
    def getlist(self, key):
        return [self[key]] if key in self else []


@pytest.fixture
def project(staff):
    project = ProjectFactory(created_by=staff, data_type="record", classes=["a", "b", "c"])
    items = [ItemFactory(project=project, external_id=f"item-{i}", metadata={"n": i}) for i in range(45)]
    labels = ["a", "b", "a", "c", None]
    finished_run(
        project,
        [
            {"item": item, "consensus": labels[i % len(labels)], "agreement": (i % 10) / 10}
            for i, item in enumerate(items)
        ],
    )
    return project


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 4 ids, batches of 5 rows (2 first): runs end inside batches and at their ends."""
    monkeypatch.setattr(fast, "BLOCK_IDS", 4)
    monkeypatch.setattr(fast, "FETCH_ROWS", 5)
    monkeypatch.setattr(fast, "FIRST_FETCH_ROWS", 2)
    merges = []
    merged = fast._merged
    monkeypatch.setattr(fast, "_merged", lambda *halves: merges.append(1) or merged(*halves))
    return merges


def _export(project, query: dict) -> bytes:
    return b"".join(export_stream(project=project, params=parse_export_params(_Query(query)))[1])


def _on_one_connection(project, query: dict) -> bytes:
    with transaction.atomic():  # inside a caller's transaction: one connection
        return _export(project, query)


@pytest.mark.parametrize("split", ["", "train:50,dev:25,test:25"], ids=["no-split", "split"])
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_two_connections_write_the_bytes_of_one(project, small_blocks, fmt, split):
    for extra, expected in (({}, 45), ({"min_agreement": "0.5"}, 20), ({"exclude": "unresolved"}, 36)):
        query = {"format": fmt, **({"split": split, "seed": "3"} if split else {}), **extra}
        one = _on_one_connection(project, query)
        assert not small_blocks
        two = _export(project, query)
        assert small_blocks, "the export did not read on two connections"
        small_blocks.clear()
        assert two == one
        assert len(one.splitlines()) - (fmt == "csv") == expected


def test_both_connections_read_one_snapshot(project, small_blocks, monkeypatch):
    """A commit between the first connection's snapshot and the second's start is in neither half."""
    query = {"format": "jsonl", "split": "train:50,dev:25,test:25"}
    before = _export(project, query)
    connect = psycopg.connect

    def connect_after_a_commit(**params):
        with connect(**params, autocommit=True) as writer:
            writer.execute(
                "UPDATE labeling_item SET external_id = external_id || '-late' WHERE project_id = %s",
                [project.id],
            )
        return connect(**params)

    monkeypatch.setattr(fast.psycopg, "connect", connect_after_a_commit)
    during = _export(project, query)
    monkeypatch.undo()
    assert small_blocks and during == before
    assert Item.objects.filter(project=project, external_id__endswith="-late").count() == 45
    assert _export(project, query).count(b'-late"') == 45


def test_without_a_second_connection_one_reads_everything(project, small_blocks, monkeypatch):
    query = {"format": "csv", "split": "train:50,dev:25,test:25"}
    expected = _export(project, query)

    def refused(**params):
        raise psycopg.OperationalError("too many clients already")

    monkeypatch.setattr(fast.psycopg, "connect", refused)
    small_blocks.clear()
    assert _export(project, query) == expected
    assert not small_blocks
    assert connection.in_atomic_block is False


def test_an_empty_project_and_a_download_closed_early(staff, project, small_blocks, monkeypatch):
    empty = ProjectFactory(created_by=staff, data_type="record", classes=["a", "b"])
    assert _export(empty, {"format": "jsonl"}) == b""
    assert _export(empty, {"format": "csv"}).count(b"\n") == 1  # the header only
    opened = []
    real_connect = fast.psycopg.connect

    def recorded(**params):
        opened.append(real_connect(**params))
        return opened[-1]

    monkeypatch.setattr(fast.psycopg, "connect", recorded)
    stream = export_stream(project=project, params=parse_export_params(_Query({"format": "jsonl"})))[1]
    first = next(stream)
    assert len(opened) == 1 and not opened[0].closed  # the second connection is reading
    pid = opened[0].info.backend_pid
    stream.close()  # the client went away: both cursors, the second connection and the transaction end
    assert first.count(b"\n") >= 1 and connection.in_atomic_block is False
    assert opened[0].closed
    # Its backend is gone (other tests' servers may hold connections of their own: only this one counts).
    deadline = time.monotonic() + 5
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone()[0] == 0:
                break
        assert time.monotonic() < deadline, "the second connection's backend is still there"
        time.sleep(0.05)
    assert _export(project, {"format": "jsonl"}).count(b"\n") == 45
