"""Likely wrong labels first, through the product: model probabilities uploaded, an agreement
run scores every consensus (CROWDLAB), the review queue orders and filters by it, the export
carries and filters it; and flagged adaptive items reach the queue."""

import io
import json

import pandas as pd
import pytest

from consistency.metrics.categorical.label_quality import label_quality
from consistency.models import AgreementRun, ItemResult, Prediction
from consistency.services.agreement_runs import agreement_run_compute
from labeling.models import Annotation, Item
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.helpers import client_for, error_code

pytestmark = pytest.mark.django_db

# Items 2 and 3 are unanimous; the model confidently says item 3 is "dent", not "none".
MODEL = {
    0: {"deep scratch": 0.7, "shallow scratch": 0.2, "dent": 0.05, "none": 0.05},
    1: {"deep scratch": 0.1, "shallow scratch": 0.8, "dent": 0.05, "none": 0.05},
    2: {"deep scratch": 0.05, "shallow scratch": 0.05, "dent": 0.85, "none": 0.05},
    3: {"deep scratch": 0.01, "shallow scratch": 0.01, "dent": 0.97, "none": 0.01},
    4: {"deep scratch": 0.6, "shallow scratch": 0.3, "dent": 0.05, "none": 0.05},
    5: {"deep scratch": 0.05, "shallow scratch": 0.05, "dent": 0.8, "none": 0.1},
}


def _upload(client, project, body: str, name="preds.jsonl", version="m1"):
    f = io.BytesIO(body.encode())
    f.name = name
    return client.post(
        f"/api/projects/{project.id}/predictions/", {"file": f, "model_version": version}, format="multipart"
    )


def _jsonl(items, model=MODEL) -> str:
    return "\n".join(
        json.dumps({"external_id": it.external_id, "probabilities": model[i]}) for i, it in enumerate(items)
    )


def _run(project) -> AgreementRun:
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return run


def test_probabilities_join_the_answers_in_the_run_and_match_the_metrics_core(project, staff):
    _, items = label(project, ANSWERS)
    response = _upload(client_for(staff), project, _jsonl(items))
    assert response.status_code == 201, response.json()
    stored = Prediction.objects.get(item=items[3])
    assert stored.value == "dent" and stored.probabilities["dent"] == 0.97  # value: the top class
    run = _run(project)

    scores = dict(ItemResult.objects.filter(run=run).values_list("item_id", "label_quality"))
    frame = pd.DataFrame(
        Annotation.objects.filter(item__project=project).values_list("item_id", "labeler_id", "value"),
        columns=["item", "labeler", "value"],
    )
    probabilities = pd.DataFrame.from_dict({it.id: MODEL[i] for i, it in enumerate(items)}, orient="index")
    expected = label_quality(frame, probabilities=probabilities, classes=list(MODEL[0]))
    assert scores == pytest.approx(expected.items["quality"].to_dict())
    # The unanimous item the model doubts scores below the unanimous item it confirms.
    assert scores[items[3].id] < scores[items[2].id]
    block = run.report["label_quality"]
    assert block["with_model"] and block["model_version"] == "m1" and block["model_weight"] > 0
    assert all(row["quality"] is not None for row in run.report["labelers"])


def test_the_queue_orders_and_filters_likely_wrong_labels_first(project, staff):
    _, items = label(project, ANSWERS)
    _upload(client_for(staff), project, _jsonl(items))
    run = _run(project)
    client = client_for(staff)
    url = f"/api/projects/{project.id}/disagreements/"

    default = client.get(url).json()["results"]
    assert items[3].id not in {r["item"] for r in default}  # unanimous: not a disagreement
    ranked = client.get(url, {"order": "likely_wrong"}).json()["results"]
    qualities = [r["label_quality"] for r in ranked]
    assert qualities == sorted(qualities) and len(ranked) == 6
    expected_order = list(
        ItemResult.objects.filter(run=run)
        .order_by("label_quality", "-disagreement", "item_id")
        .values_list("item_id", flat=True)
    )
    assert [r["item"] for r in ranked] == expected_order
    threshold = sorted(qualities)[2]
    below = client.get(url, {"order": "likely_wrong", "max_quality": threshold}).json()["results"]
    assert [r["item"] for r in below] == expected_order[:2]
    for bad in ({"order": "random"}, {"max_quality": "high"}, {"max_quality": "2"}, {"flag": "x"}):
        response = client.get(url, bad)
        assert response.status_code == 400 and error_code(response) == "invalid", bad

    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/review/", {"order": "likely_wrong"}).content.decode()
    assert "Label quality" in html and "likely wrong first" in html


def test_the_export_carries_and_filters_label_quality_on_both_paths(project, staff):
    _, items = label(project, ANSWERS)
    _upload(client_for(staff), project, _jsonl(items))
    run = _run(project)
    scores = dict(ItemResult.objects.filter(run=run).values_list("item_id", "label_quality"))
    cut = sorted(scores.values())[3]
    client = client_for(staff)
    url = f"/api/projects/{project.id}/export/"

    def body(response) -> bytes:
        assert response.status_code == 200, response.content[:300]
        return b"".join(response.streaming_content)

    rows = [json.loads(line) for line in body(client.get(url, {"include": "quality"})).splitlines()]
    assert {r["item_id"]: r["label_quality"] for r in rows} == pytest.approx(scores)
    plain = [json.loads(line) for line in body(client.get(url)).splitlines()]
    assert "label_quality" not in plain[0]
    # min_quality alone goes the fast (PostgreSQL COPY) path; with include=quality the reference one.
    fast = [json.loads(line) for line in body(client.get(url, {"min_quality": cut})).splitlines()]
    reference = [
        json.loads(line)
        for line in body(client.get(url, {"min_quality": cut, "include": "quality"})).splitlines()
    ]
    kept = {item for item, q in scores.items() if q >= cut}
    assert {r["item_id"] for r in fast} == {r["item_id"] for r in reference} == kept and len(kept) == 3
    csv_text = body(client.get(url, {"format": "csv", "include": "quality"})).decode()
    assert csv_text.splitlines()[0].endswith("answers,label_quality,split")
    bad = client.get(url, {"min_quality": "1.5"})
    assert bad.status_code == 400 and "min_quality" in bad.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('{"external_id": "%s", "probabilities": {"dent": 0.5, "none": 0.3}}', "sum to 0.8"),
        (
            '{"external_id": "%s", "probabilities": {"dent": 0.5, "zebra": 0.5}}',
            "unknown classes in probabilities: zebra",
        ),
        ('{"external_id": "%s", "probabilities": {"dent": 1.5, "none": -0.5}}', "between 0 and 1"),
        ('{"external_id": "%s", "probabilities": {"dent": "lots"}}', "must be numbers"),
    ],
)
def test_bad_probabilities_get_400_naming_the_rows_and_store_nothing(project, staff, body, fragment):
    item = Item.objects.create(project=project, kind="image", external_id="x1", target=3)
    good = json.dumps({"external_id": item.external_id, "probabilities": MODEL[0]})
    response = _upload(client_for(staff), project, good + "\n" + body % item.external_id)
    assert response.status_code == 400 and error_code(response) == "invalid"
    rows = response.json()["error"]["fields"]["rows"]
    assert len(rows) == 1 and rows[0].startswith("line 2:") and fragment in rows[0], rows
    assert not Prediction.objects.exists()


def test_csv_probability_columns_are_checked_per_row(project, staff):
    Item.objects.bulk_create(
        Item(project=project, kind="image", external_id=f"c{i}", target=3) for i in range(3)
    )
    header = "external_id,prob:deep scratch,prob:shallow scratch,prob:dent,prob:none"
    good = f"{header}\nc0,0.1,0.2,0.3,0.4\nc1,0.25,0.25,0.25,0.25\n"
    response = _upload(client_for(staff), project, good, name="p.csv")
    assert response.status_code == 201, response.json()
    assert Prediction.objects.get(item__external_id="c0").value == "none"
    bad = f"{header}\nc0,0.1,0.2,0.3,0.4\nc1,0.5,0.5,0.5,0.5\nc2,0.1,0.1,0.1,0.1\n"
    response = _upload(client_for(staff), project, bad, name="p.csv", version="m2")
    assert [r.split(":")[0] for r in response.json()["error"]["fields"]["rows"]] == ["line 3", "line 4"]
    unknown = "external_id,prob:dent,prob:zebra\nc0,0.5,0.5\n"
    response = _upload(client_for(staff), project, unknown, name="p.csv", version="m3")
    assert response.status_code == 400 and "zebra" in response.json()["error"]["fields"]["rows"][0]
    assert not Prediction.objects.filter(model_version__in=["m2", "m3"]).exists()


def test_items_flagged_after_max_answers_are_in_the_queue_with_their_flag(project, staff):
    _, items = label(project, ANSWERS)
    Item.objects.filter(pk=items[2].pk).update(disagrees_after_max=True)  # unanimous, yet flagged
    _run(project)
    client = client_for(staff)
    url = f"/api/projects/{project.id}/disagreements/"
    rows = {r["item"]: r for r in client.get(url).json()["results"]}
    assert rows[items[2].id]["disagrees_after_max"] is True
    flagged = client.get(url, {"flag": "disagree_after_max"}).json()["results"]
    assert [r["item"] for r in flagged] == [items[2].id]
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/review/").content.decode()
    assert "people disagree after max answers" in html
