# ruff: noqa: S608 — the SQL under test is built from constant fragments.
"""Class names, external ids and record fields with line breaks, quotes, commas and other
awkward characters come back exactly from CSV, JSONL and Parquet, on PostgreSQL's fast path
and on the reference path, with and without splits. (A class "x\\ny" broke the fast path's CSV
row and, with split=, aborted the stream mid-response.) NUL cannot be stored: it is refused when
it comes in (tests/test_hostile_input.py)."""

import csv
import io
import json

import pyarrow.parquet as pq
import pytest
from django.db import connection

from consistency.exports.params import parse_export_params
from consistency.exports.stream import export_stream
from tests.factories import ItemFactory, ProjectFactory, finished_run

pytestmark = pytest.mark.django_db

CLASSES = ["x\ny", 'say "hi", then go', "a,b", "cr\rlf\r\n", "tab\there ünï 字"]
AWKWARD = ["line\nbreak", 'quote"inside', "comma,inside", "\r\n", '"', "", "plain"]


class _Query(dict):
    def getlist(self, key):
        return [self[key]] if key in self else []


@pytest.fixture(params=["awkward-ids", "plain-ids"])
def awkward_project(request, staff):
    project = ProjectFactory(created_by=staff, data_type="record", classes=CLASSES)
    results = []
    for i in range(60):
        text = AWKWARD[i % len(AWKWARD)]
        item = ItemFactory(
            project=project,
            external_id=f"{text}-{i}" if request.param == "awkward-ids" else f"item-{i}",
            data={"text": f"{text} {i}", text or "empty": [text, i]},
            metadata={"source": text},
        )
        results.append({"item": item, "consensus": CLASSES[i % len(CLASSES)], "agreement": (i % 10) / 10})
    finished_run(project, results)
    return project, {r["item"].external_id: r for r in results}


def _rows(fmt: str, raw: bytes) -> list[dict]:
    if fmt == "jsonl":
        return [json.loads(line) for line in raw.decode().split("\n") if line]
    if fmt == "parquet":
        rows = pq.read_table(io.BytesIO(raw)).to_pylist()
        return [{**r, "consensus": json.loads(r["consensus"])} for r in rows]
    rows = list(csv.DictReader(io.StringIO(raw.decode(), newline="")))
    # CSV cells that look like formulas get a leading apostrophe (docs/security.md): undo it.
    for row in rows:
        for key in ("external_id", "consensus"):
            if row[key][:1] == "'" and row[key][1:2] in ("=", "+", "-", "@", "\t", "\r"):
                row[key] = row[key][1:]
    return rows


@pytest.mark.parametrize("split", ["", "train:50,dev:25,test:25"], ids=["no-split", "split"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_awkward_values_round_trip_on_both_paths(awkward_project, fmt, split):
    project, expected = awkward_project
    query = {"format": fmt, **({"split": split, "seed": "3"} if split else {})}
    params = parse_export_params(_Query(query))
    outputs = []
    for fast in (True, False):
        _, stream = export_stream(project=project, params=params, fast=fast)
        rows = _rows(fmt, b"".join(stream))
        assert len(rows) == len(expected)
        for row in rows:
            item = expected[row["external_id"]]["item"]
            data = row["data"] if isinstance(row["data"], dict) else json.loads(row["data"])
            metadata = row["metadata"] if isinstance(row["metadata"], dict) else json.loads(row["metadata"])
            assert data == item.data and metadata == item.metadata
            assert row["consensus"] == expected[row["external_id"]]["consensus"]
            assert (row["split"] or None) in ({None} if not split else {"train", "dev", "test"})
        outputs.append(sorted((r["external_id"], r["split"] or None) for r in rows))
    assert outputs[0] == outputs[1]  # the fast path splits exactly as the reference does


FORMULAS = ["=1+1", "-x", "@a", "\tt", "\rr", '=a,"b"', "+", "=", "ü,x", "\x01\x1f ctrl", "back\\slash"]


def _cells(cursor, values: list) -> None:
    cursor.execute("CREATE TEMP TABLE cells (i int, x text)")
    cursor.executemany("INSERT INTO cells VALUES (%s, %s)", list(enumerate(values)))


@pytest.mark.parametrize("formula_safe", [False, True])
def test_csv_cells_are_quoted_exactly_as_copy_quotes_them(formula_safe):
    """The fast path writes its CSV lines itself: they must stay the bytes COPY wrote before."""
    from consistency.exports.lines import _csv_cell

    values = [*AWKWARD, *CLASSES, *FORMULAS, None]
    formula = r"CASE WHEN x ~ '^[=+@\t\r-]' THEN '''' || x ELSE x END" if formula_safe else "x"
    with connection.cursor() as cursor:
        _cells(cursor, values)
        cursor.execute(f"SELECT {_csv_cell('x', formula_safe=formula_safe)} FROM cells ORDER BY i")
        ours = "".join(f"{cell},0\n" for (cell,) in cursor.fetchall())
        copy_sql = f"COPY (SELECT {formula}, 0 FROM cells ORDER BY i) TO STDOUT (FORMAT csv)"
        with cursor.cursor.copy(copy_sql) as copy:
            copied = b"".join(bytes(block) for block in copy).decode()
    assert ours == copied and ours.count('"') > 20


def test_json_text_is_to_json():
    from consistency.exports.lines import json_text

    values = [*AWKWARD, *CLASSES, *FORMULAS, None, "\x7f", '\\"']
    with connection.cursor() as cursor:
        _cells(cursor, values)
        cursor.execute(f"SELECT {json_text('x')}, coalesce(to_json(x)::text, 'null') FROM cells ORDER BY i")
        pairs = cursor.fetchall()
    assert [ours for ours, _ in pairs] == [theirs for _, theirs in pairs]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_splits_carry_their_counts_across_fetched_batches(awkward_project, fmt, monkeypatch):
    """Python assigns the splits a fetched batch at a time: batches of 7 rows give the bytes of
    one batch, also with a filter that drops rows (they still advance their strata)."""
    from consistency.exports import fast

    project, expected = awkward_project
    for extra in ({}, {"min_agreement": "0.5"}):
        query = {"format": fmt, "split": "train:50,dev:25,test:25", "seed": "3", **extra}
        params = parse_export_params(_Query(query))
        whole = b"".join(export_stream(project=project, params=params)[1])
        monkeypatch.setattr(fast, "FETCH_ROWS", 7)
        batched = b"".join(export_stream(project=project, params=params)[1])
        monkeypatch.undo()
        assert batched == whole
        assert len(_rows(fmt, whole)) == (len(expected) if not extra else 30)


def test_a_run_consensus_outside_the_class_names_gets_its_own_stratum(staff):
    """The fast path learns the strata from the rows: a consensus no class is called (an old
    run's, a hand-edited result) is split in its own stratum, as the reference path splits it."""
    project = ProjectFactory(created_by=staff, data_type="record", classes=["a", "b"])
    labels = ["a", "b", "gone", "a", 'odd "one"', "gone"]
    results = [
        {"item": ItemFactory(project=project, external_id=f"i{i}"), "consensus": labels[i % len(labels)]}
        for i in range(40)
    ]
    finished_run(project, results)
    params = parse_export_params(_Query({"format": "jsonl", "split": "train:50,dev:25,test:25", "seed": "4"}))
    fast, reference = (
        [
            json.loads(line)
            for line in _bytes(export_stream(project=project, params=params, fast=f)).splitlines()
        ]
        for f in (True, False)
    )
    assert [(r["external_id"], r["label"], r["split"]) for r in fast] == [
        (r["external_id"], r["label"], r["split"]) for r in reference
    ]
    assert {r["label"] for r in fast} == {"a", "b", "gone", 'odd "one"'}


def _bytes(exported: tuple) -> bytes:
    return b"".join(exported[1])
