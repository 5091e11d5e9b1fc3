import io

import pytest

from consistency.models import AgreementRun, Prediction
from consistency.services.agreement_runs import agreement_run_compute
from labeling.models import Item, Role
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import MembershipFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def _upload(client, project, content: str, version="v1"):
    f = io.BytesIO(content.encode())
    f.name = "preds.csv"
    return client.post(
        f"/api/projects/{project.id}/predictions/", {"file": f, "model_version": version}, format="multipart"
    )


def test_predictions_feed_the_gap_to_hlp_table(client, project, staff):
    _, items = label(project, ANSWERS, metadata={i: {"factory": "A" if i < 3 else "B"} for i in range(6)})
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    lines = ["external_id,value,score"] + [f"{it.external_id},dent,0.9" for it in items]
    response = _upload(client_for(staff), project, "\n".join(lines) + "\nunknown-item,dent,0.1\n")
    assert response.status_code == 201, response.json()
    assert response.json()["stored"] == 6 and response.json()["unknown_external_ids"] == ["unknown-item"]
    assert Prediction.objects.count() == 6
    client.force_login(staff)
    html = client.get(
        f"/projects/{project.id}/model/", {"version": "v1", "field": "factory"}
    ).content.decode()
    assert "Where to work next" in html and "Gap to HLP" in html
    assert "items where the model disagrees" in html


def test_bad_prediction_values_store_nothing_and_labelers_are_refused(project, staff):
    Item.objects.create(project=project, kind="image", external_id="x", target=3)
    assert _upload(client_for(staff), project, "external_id,value\nx,scratch\n").status_code == 400
    assert not Prediction.objects.exists()
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    assert _upload(client_for(labeler), project, "external_id,value\nx,dent\n").status_code == 403


def test_predictions_are_never_answers(project, staff):
    label(project, ANSWERS[:2])
    item = Item.objects.filter(project=project).first()
    _upload(client_for(staff), project, f"external_id,value\n{item.external_id},none\n")
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.report["counts"]["answers"] == 6


def test_transcript_predictions_are_scored_by_word_accuracy_per_slice(client, staff):
    import json

    from consistency.services.predictions import gap_table
    from tests.factories import ProjectFactory

    project = ProjectFactory(created_by=staff, data_type="audio", label_kind="transcription", classes=[])
    _, items = label(
        project,
        [["call mom"] * 3, ["play some jazz"] * 3],
        metadata={0: {"noise": "car"}, 1: {"noise": "clear"}},
    )
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    predicted = {items[0].external_id: "call", items[1].external_id: "play some jazz"}
    body = "\n".join(json.dumps({"external_id": k, "value": v}) for k, v in predicted.items())
    assert _upload(client_for(staff), project, body).status_code == 201

    table = gap_table(project=project, run=run, model_version="v1", field="noise")
    car, clear = table["rows"]  # sorted by potential
    # "call" for "call mom": one deletion in two reference words → word accuracy 0.5; people agree.
    expected = {"slice": "car", "items": 1, "model_accuracy": 0.5, "hlp": 1.0, "gap": 0.5}
    assert car == pytest.approx(expected | {"share": 0.5, "potential": 0.25})
    assert clear["slice"] == "clear" and clear["model_accuracy"] == 1.0 and clear["gap"] == 0.0
    assert table["disagreeing_items"] == [items[0].id]
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/model/", {"version": "v1", "field": "noise"}).content.decode()
    assert "Gap to HLP" in html and "car" in html and "Model word accuracy (1 − WER)" in html
