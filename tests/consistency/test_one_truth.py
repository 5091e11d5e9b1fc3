"""The issue-13 walk-through on the demo: a merge, a resolved tie and an item that lacks the
information reach the export (both paths, every format with labels), the queue and the pages
at once, with no manual run."""

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from consistency.services.reviews import review_act
from labeling.models import Item
from tests.helpers import client_for, phone_defects_merged

pytestmark = pytest.mark.django_db

V1_ONLY = {"deep scratch", "shallow scratch"}


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def defects():
    project, manager, reviewer = phone_defects_merged()
    return project, manager, reviewer


def _rows(client, project, **query) -> list[dict]:
    response = client.get(f"/api/projects/{project.id}/export/", query)
    assert response.status_code == 200, response.content
    return [json.loads(line) for line in _body(response).decode().splitlines()]


def test_merge_resolution_and_lacks_information_reach_every_export(defects):
    project, manager, reviewer = defects
    client = client_for(manager)
    tie = Item.objects.get(project=project, external_id="phone-019")
    lacking = Item.objects.get(project=project, external_id="phone-012")
    review_act(project=project, item=tie, actor=reviewer, action="resolve", expected_version=0, value="dent")
    review_act(project=project, item=lacking, actor=reviewer, action="lacks_information", expected_version=0)

    rows = _rows(client, project)
    by_id = {r["external_id"]: r for r in rows}
    assert {r["schema_version"] for r in rows} == {2}
    for row in rows:
        assert row["label"] not in V1_ONLY and row["consensus"] not in V1_ONLY
    gold = by_id["phone-001"]
    assert gold["label_source"] == "gold" and gold["label"] in {"scratch", "dent", "none"}
    resolved = by_id["phone-019"]
    assert (resolved["label"], resolved["label_source"], resolved["is_tie"]) == ("dent", "resolved", False)
    assert resolved["resolved_by"] == "reviewer" and resolved["resolved_at"]
    assert "phone-012" not in by_id
    assert "phone-019" in {r["external_id"] for r in _rows(client, project, exclude="ties")}
    with_lacking = {r["external_id"]: r for r in _rows(client, project, include="lacks_information")}
    assert with_lacking["phone-012"]["status"] == "lacks_information"

    reference = _rows(client, project, include="answers")  # the Python path
    assert [{k: v for k, v in r.items() if k != "answers"} for r in reference] == rows
    table = pq.read_table(
        io.BytesIO(_body(client.get(f"/api/projects/{project.id}/export/", {"format": "parquet"})))
    )
    assert set(table.column("label").to_pylist()) <= {json.dumps(c) for c in ("scratch", "dent", "none")} | {
        None
    }
    text = _body(client.get(f"/api/projects/{project.id}/export/", {"format": "csv"})).decode()
    assert {r["label"] for r in csv.DictReader(io.StringIO(text))} <= {"scratch", "dent", "none", ""}
    tasks = json.loads(_body(client.get(f"/api/projects/{project.id}/export/", {"format": "label_studio"})))
    predicted = {
        c for t in tasks for p in t["predictions"] for r in p["result"] for c in r["value"]["choices"]
    }
    assert predicted <= {"scratch", "dent", "none"}
    assert (
        next(t for t in tasks if t["meta"]["external_id"] == "phone-019")["meta"]["label_source"]
        == "resolved"
    )
