import csv
import io
import json
from collections import Counter

import pyarrow.parquet as pq
import pytest

from labeling.models import Item, Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory, finished_run
from tests.helpers import client_for, error_code

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def _jsonl(response) -> list[dict]:
    return [json.loads(line) for line in _body(response).decode().splitlines()]


@pytest.fixture
def binary_project(staff):
    project = ProjectFactory(created_by=staff, name="Same person?", data_type="record", classes=["1", "0"])
    items = [
        ItemFactory(
            project=project,
            external_id=f"pair-{i:03d}",
            data={"left": {"name": f"n{i}"}},
            metadata={"source": "crm" if i % 2 else "web"},
        )
        for i in range(100)
    ]
    finished_run(
        project,
        [
            {"item": item, "consensus": "1" if i < 30 else "0", "agreement": i / 100}
            for i, item in enumerate(items)
        ],
    )
    return project


def test_course_split_example_over_the_api(binary_project, staff):
    response = client_for(staff).get(
        f"/api/projects/{binary_project.id}/export/", {"split": "train:60,dev:20,test:20", "seed": 11}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert "attachment; filename=" in response["Content-Disposition"]
    rows = _jsonl(response)
    assert len(rows) == 100
    assert Counter(r["split"] for r in rows if r["consensus"] == "1") == {"train": 18, "dev": 6, "test": 6}
    assert {
        "external_id",
        "consensus",
        "split",
        "method",
        "confidence",
        "agreement",
        "n_answers",
        "is_gold",
        "schema_version",
        "metadata",
        "data",
        "item_id",
    } <= set(rows[0])


def test_splits_are_stable_when_the_project_grows(binary_project, staff):
    client = client_for(staff)
    url = f"/api/projects/{binary_project.id}/export/"
    before = {
        r["external_id"]: r["split"] for r in _jsonl(client.get(url, {"split": "train:80,dev:10,test:10"}))
    }
    more = [ItemFactory(project=binary_project, external_id=f"new-{i}") for i in range(57)]
    items = list(Item.objects.filter(project=binary_project).order_by("id"))
    finished_run(
        binary_project,
        [{"item": it, "consensus": "1" if (it.id % 3 == 0) else "0"} for it in items if it in more]
        + [
            {"item": it, "consensus": "1" if int(it.external_id[-3:]) < 30 else "0"}
            for it in items
            if it not in more
        ],
    )
    after = {
        r["external_id"]: r["split"] for r in _jsonl(client.get(url, {"split": "train:80,dev:10,test:10"}))
    }
    assert len(after) == 157
    assert all(after[key] == split for key, split in before.items())


def test_filters(binary_project, staff):
    client = client_for(staff)
    url = f"/api/projects/{binary_project.id}/export/"
    assert len(_jsonl(client.get(url, {"min_agreement": "0.9"}))) == 10
    assert len(_jsonl(client.get(url, {"slice": "source:crm"}))) == 50
    assert len(_jsonl(client.get(url, {"min_answers": "4"}))) == 0  # a valid empty file


def test_csv_escapes_formulas_and_jsonl_keeps_exact_text(staff):
    project = ProjectFactory(created_by=staff, data_type="record", classes=["1", "0"])
    item = ItemFactory(
        project=project, external_id='=HYPERLINK("http://x")', data={"note": "+cmd|' /C calc'!A0"}
    )
    finished_run(project, [{"item": item, "consensus": "1"}])
    client = client_for(staff)
    url = f"/api/projects/{project.id}/export/"
    rows = list(csv.DictReader(io.StringIO(_body(client.get(url, {"format": "csv"})).decode())))
    assert rows[0]["external_id"] == '\'=HYPERLINK("http://x")'
    assert _jsonl(client.get(url))[0]["external_id"] == '=HYPERLINK("http://x")'
    table = pq.read_table(io.BytesIO(_body(client.get(url, {"format": "parquet"}))))
    assert table.column("external_id").to_pylist() == ['=HYPERLINK("http://x")']


def test_include_answers_and_label_studio_format(binary_project, staff):
    from labeling.services.assignments import assignment_reserve_next
    from labeling.services.submissions import annotation_submit

    labeler = MembershipFactory(project=binary_project, role=Role.LABELER).user
    assignment = assignment_reserve_next(project=binary_project, labeler=labeler)
    annotation_submit(item_id=assignment.item_id, labeler=labeler, value="1")
    client = client_for(staff)
    url = f"/api/projects/{binary_project.id}/export/"
    rows = _jsonl(client.get(url, {"include": "answers"}))
    answered = [r for r in rows if r["answers"]]
    assert answered[0]["answers"] == [{"labeler": labeler.id, "value": "1"}]
    tasks = json.loads(_body(client.get(url, {"format": "label_studio"})))
    assert len(tasks) == 100 and tasks[0]["predictions"][0]["result"][0]["type"] == "choices"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"format": "xml"}, "format"),
        ({"split": "train:80,dev:10"}, "split"),
        ({"split": "train:-10,dev:110"}, "split"),
        ({"split": "train:50,eval:50"}, "split"),
        ({"min_agreement": "high"}, "min_agreement"),
        ({"exclude": "noise"}, "exclude"),
        ({"ordering": "user__password"}, "ordering"),
        ({"format": "coco"}, "format"),
    ],
)
def test_bad_parameters_are_400(binary_project, staff, query, field):
    response = client_for(staff).get(f"/api/projects/{binary_project.id}/export/", query)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize("role", [Role.LABELER, Role.REVIEWER])
def test_labelers_and_reviewers_cannot_export(binary_project, role):
    member = MembershipFactory(project=binary_project, role=role).user
    response = client_for(member).get(f"/api/projects/{binary_project.id}/export/")
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"


def test_pipeline_token_exports_and_strangers_get_404(binary_project):
    pipeline = MembershipFactory(project=binary_project, role=Role.PIPELINE).user
    assert client_for(pipeline).get(f"/api/projects/{binary_project.id}/export/").status_code == 200
    assert client_for(UserFactory()).get(f"/api/projects/{binary_project.id}/export/").status_code == 404


def test_export_never_waits_for_a_run(staff):
    from labeling.services.assignments import assignment_reserve_next
    from labeling.services.submissions import annotation_submit

    project = ProjectFactory(created_by=staff, classes=["a", "b"], overlap=1)
    ItemFactory(project=project, external_id="x")
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    assignment = assignment_reserve_next(project=project, labeler=labeler)
    annotation_submit(item_id=assignment.item_id, labeler=labeler, value="b")
    response = client_for(staff).get(f"/api/projects/{project.id}/export/")
    assert response.status_code == 200
    assert response["X-Concord-Run"] == "none"
    [row] = _jsonl(response)
    assert (row["label"], row["label_source"], row["consensus"], row["n_answers"]) == (
        "b",
        "consensus",
        "b",
        1,
    )
    response = client_for(staff).get(f"/api/projects/{project.id}/export/", {"run": "999999"})
    assert response.status_code == 409


def test_coco_for_box_projects(staff):
    project = ProjectFactory(created_by=staff, label_kind="boxes", classes=["dent", "scratch"])
    item = ItemFactory(project=project, quality={"width": 320, "height": 240})
    finished_run(
        project, [{"item": item, "consensus": [{"x": 1, "y": 2, "w": 30, "h": 40, "class": "dent"}]}]
    )
    coco = json.loads(_body(client_for(staff).get(f"/api/projects/{project.id}/export/", {"format": "coco"})))
    assert coco["images"][0]["width"] == 320
    assert coco["annotations"][0]["bbox"] == [1, 2, 30, 40]
    assert coco["annotations"][0]["category_id"] == 1


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize(
    "query",
    [
        {"split": "train:60,dev:20,test:20", "seed": "4"},
        {"split": "train:80,dev:10,test:10", "min_agreement": "0.5", "slice": "source:crm"},
        {"exclude": "ties,unresolved,borderline", "consensus": "dawid_skene"},
    ],
)
def test_postgres_fast_path_gives_the_same_rows_as_the_reference_path(binary_project, staff, fmt, query):
    from consistency.exports.params import parse_export_params
    from consistency.exports.stream import export_stream

    class Query(dict):
        def getlist(self, key):
            return [self[key]] if key in self else []

    params = parse_export_params(Query({**query, "format": fmt}))
    _, fast = export_stream(project=binary_project, params=params, fast=True)
    _, reference = export_stream(project=binary_project, params=params, fast=False)
    fast_bytes, reference_bytes = b"".join(fast), b"".join(reference)
    if fmt == "jsonl":
        assert [json.loads(x) for x in fast_bytes.splitlines()] == [
            json.loads(x) for x in reference_bytes.splitlines()
        ]
    else:
        assert _cells(fast_bytes) == _cells(reference_bytes)
    assert len(fast_bytes.splitlines()) > 1


def _cells(raw: bytes) -> list[list]:
    """CSV cells with numbers and JSON parsed: the two paths may spell 1 as 1.0 or space JSON."""

    def norm(cell: str):
        for parse in (float, json.loads):
            try:
                return parse(cell)
            except ValueError:
                continue
        return cell

    return [[norm(c) for c in row] for row in csv.reader(io.StringIO(raw.decode()))]
