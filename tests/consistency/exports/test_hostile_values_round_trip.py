"""Class names, external ids and record fields with line breaks, quotes, commas and other
awkward characters come back exactly from CSV, JSONL and Parquet, on PostgreSQL's COPY fast path
and on the reference path, with and without splits. (A class "x\\ny" broke the fast path's CSV
row and, with split=, aborted the stream mid-response.) NUL cannot be stored: it is refused when
it comes in (tests/test_hostile_input.py)."""

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

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


def test_rows_whose_quotes_span_blocks_are_joined():
    from consistency.exports.fast import _whole_rows

    pieces = b'k,t,1,"x\n\ny",2\nk,t,"a ""b"" c",3\nk,t,"open'.split(b"\n")
    rows, leftover = _whole_rows(pieces)
    assert rows == [b'k,t,1,"x\n\ny",2', b'k,t,"a ""b"" c",3'] and leftover == b'k,t,"open\n'
