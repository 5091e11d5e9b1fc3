"""Pre-labels (a model's suggestion shown with the item, a held-out share without it) and going
back to an answered item to change the answer."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consistency.models import Prediction
from labeling.models import Annotation, PrelabelExposure, Role
from labeling.services.prelabels import prelabel_held_out
from tests.factories import ItemFactory, MembershipFactory
from tests.helpers import client_for, error_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def labeler(project):
    return MembershipFactory(project=project, role=Role.LABELER).user


def _predict(project, items, value="dent", version="m1"):
    Prediction.objects.bulk_create(
        Prediction(project=project, item=item, model_version=version, value=value) for item in items
    )


def _answer_all(client, project):
    """Answer every item the labeler gets, returning the payloads they were shown."""
    seen = []
    response = client.get(f"/api/projects/{project.id}/next/")
    payload = response.json() if response.status_code == 200 else None
    while payload:
        seen.append(payload)
        value = (payload["suggestion"] or {}).get("value") or "none"
        payload = client.post(
            f"/api/items/{payload['id']}/annotations/", {"value": value}, format="json"
        ).json()["next"]
    return seen


def test_without_prelabels_the_payload_has_no_suggestion(project, labeler):
    items = ItemFactory.create_batch(2, project=project)
    _predict(project, items)
    body = client_for(labeler).get(f"/api/projects/{project.id}/next/").json()
    assert body["suggestion"] is None
    assert not PrelabelExposure.objects.exists()


def test_prelabels_show_the_prediction_except_for_the_held_out_share(project, labeler):
    project.prelabels, project.prelabel_holdout = True, 0.25
    project.save()
    items = ItemFactory.create_batch(40, project=project)
    _predict(project, items[:30])  # the last ten have no prediction
    seen = _answer_all(client_for(labeler), project)
    assert len(seen) == 40
    exposures = {e.assignment.item_id: e for e in PrelabelExposure.objects.select_related("assignment")}
    assert set(exposures) == {i.id for i in items[:30]}  # recorded only where a prediction exists
    for payload in seen:
        exposure = exposures.get(payload["id"])
        expected = exposure is not None and exposure.shown
        assert (payload["suggestion"] is not None) == expected
        if expected:
            assert payload["suggestion"] == {"value": "dent", "model_version": "m1"}
        if exposure is not None:
            held = prelabel_held_out(
                project_id=project.id, item_id=payload["id"], labeler_id=labeler.id, share=0.25
            )
            assert exposure.shown is not held
    held_out = sum(not e.shown for e in exposures.values())
    assert 0 < held_out < 30  # both arms are there (a fixed hash: this does not flake)


def test_a_reload_shows_the_same_suggestion_and_records_one_exposure(project, labeler):
    project.prelabels, project.prelabel_holdout = True, 0.0
    project.save()
    item = ItemFactory(project=project)
    _predict(project, [item], value="deep scratch")
    client = client_for(labeler)
    first = client.get(f"/api/projects/{project.id}/next/").json()
    _predict(project, [item], value="dent", version="m2")  # a newer model arrives meanwhile
    again = client.get(f"/api/projects/{project.id}/next/").json()
    assert first["suggestion"] == again["suggestion"] == {"value": "deep scratch", "model_version": "m1"}
    assert PrelabelExposure.objects.count() == 1


def test_the_managers_model_version_is_suggested_and_stale_classes_are_not(project, labeler):
    project.prelabels, project.prelabel_holdout, project.prelabel_model_version = True, 0.0, "m1"
    project.save()
    a, b = ItemFactory.create_batch(2, project=project)
    _predict(project, [a, b], value="dent", version="m1")
    _predict(project, [a, b], value="none", version="m2")
    Prediction.objects.filter(item=b, model_version="m1").update(value="scratch")  # no such class now
    seen = _answer_all(client_for(labeler), project)
    assert [p["suggestion"] for p in seen] == [{"value": "dent", "model_version": "m1"}, None]


@settings(max_examples=25, deadline=None)
@given(share=st.floats(min_value=0, max_value=1))
def test_the_held_out_share_is_what_the_manager_set(share):
    draws = [prelabel_held_out(project_id=7, item_id=i, labeler_id=3, share=share) for i in range(4000)]
    assert sum(draws) / len(draws) == pytest.approx(share, abs=0.035)
    assert prelabel_held_out(project_id=7, item_id=11, labeler_id=3, share=share) == draws[11]


def test_managers_set_prelabels_over_the_api_and_bad_shares_are_400(project, staff):
    client = client_for(staff)
    ok = client.patch(
        f"/api/projects/{project.id}/", {"prelabels": True, "prelabel_holdout": 0.2}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["prelabels"] is True and ok.json()["prelabel_holdout"] == 0.2
    bad = client.patch(f"/api/projects/{project.id}/", {"prelabel_holdout": 1.5}, format="json")
    assert bad.status_code == 400 and "prelabel_holdout" in bad.json()["error"]["fields"]
    project.refresh_from_db()
    assert project.prelabel_holdout == 0.2


def test_going_back_shows_my_answer_and_a_change_supersedes_it(project, labeler):
    first, second = ItemFactory.create_batch(2, project=project)
    client = client_for(labeler)
    client.get(f"/api/projects/{project.id}/next/")
    client.post(f"/api/items/{first.id}/annotations/", {"value": "dent", "comment": "hm"}, format="json")
    back = client.get(f"/api/items/{first.id}/my-answer/")
    assert back.status_code == 200
    body = back.json()
    assert body["item"]["id"] == first.id and body["item"]["external_id"] == first.external_id
    assert body["annotation"]["value"] == "dent" and body["annotation"]["comment"] == "hm"
    changed = client.post(f"/api/items/{first.id}/annotations/", {"value": "none"}, format="json")
    assert changed.status_code == 201
    assert changed.json()["next"]["id"] == second.id  # back to the item I was on
    history = list(Annotation.objects.filter(item=first).order_by("id").values_list("value", "is_current"))
    assert history == [("dent", False), ("none", True)]
    assert client.get(f"/api/items/{first.id}/my-answer/").json()["annotation"]["value"] == "none"


def test_a_skip_can_be_revisited_and_answered(project, labeler):
    item = ItemFactory(project=project)
    client = client_for(labeler)
    client.get(f"/api/projects/{project.id}/next/")
    client.post(f"/api/items/{item.id}/annotations/", {"skip_reason": "lacks_information"}, format="json")
    assert (
        client.get(f"/api/items/{item.id}/my-answer/").json()["annotation"]["skip_reason"]
        == "lacks_information"
    )
    assert (
        client.post(f"/api/items/{item.id}/annotations/", {"value": "dent"}, format="json").status_code == 201
    )
    assert Annotation.objects.get(item=item, is_current=True).skip_reason == ""


def test_my_answer_is_404_for_items_not_answered_by_me(project, labeler):
    reserved, other = ItemFactory.create_batch(2, project=project)
    someone = MembershipFactory(project=project, role=Role.LABELER).user
    client_for(someone).get(f"/api/projects/{project.id}/next/")
    client_for(someone).post(f"/api/items/{reserved.id}/annotations/", {"value": "dent"}, format="json")
    client = client_for(labeler)
    client.get(f"/api/projects/{project.id}/next/")  # reserves `reserved`: not answered yet
    for item in (reserved, other):
        response = client.get(f"/api/items/{item.id}/my-answer/")
        assert response.status_code == 404 and error_code(response) == "not_found"
        assert "dent" not in response.content.decode()  # nothing of another labeler's answer
