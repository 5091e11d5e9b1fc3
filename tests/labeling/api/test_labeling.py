import pytest

from labeling.models import Annotation, Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory
from tests.helpers import client_for, error_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def labeler(project):
    return MembershipFactory(project=project, role=Role.LABELER).user


def test_next_then_submit_carries_the_next_item(project, labeler):
    items = ItemFactory.create_batch(2, project=project)
    client = client_for(labeler)
    first = client.get(f"/api/projects/{project.id}/next/")
    assert first.status_code == 200
    body = first.json()
    assert body["id"] == items[0].id and body["kind"] == "image" and body["lease_expires_at"]
    submitted = client.post(f"/api/items/{body['id']}/annotations/", {"value": "dent"}, format="json")
    assert submitted.status_code == 201
    out = submitted.json()
    assert out["annotation"]["value"] == "dent" and out["annotation"]["schema_version"] == 1
    assert out["next"]["id"] == items[1].id
    last = client.post(f"/api/items/{items[1].id}/annotations/", {"value": "none"}, format="json")
    assert last.json()["next"] is None
    assert client.get(f"/api/projects/{project.id}/next/").status_code == 204


def test_next_and_submit_use_a_constant_number_of_queries(project, labeler, django_assert_max_num_queries):
    ItemFactory.create_batch(30, project=project)
    client = client_for(labeler)
    item_id = client.get(f"/api/projects/{project.id}/next/").json()["id"]
    for _ in range(5):
        with django_assert_max_num_queries(9):  # 9th: the service's own check of the caller's role
            item_id = client.get(f"/api/projects/{project.id}/next/").json()["id"]
        with django_assert_max_num_queries(14):
            item_id = client.post(
                f"/api/items/{item_id}/annotations/", {"value": "dent"}, format="json"
            ).json()["next"]["id"]


def test_idempotency_key_header_makes_a_retry_a_replay(project, labeler):
    ItemFactory.create_batch(3, project=project)
    client = client_for(labeler)
    item_id = client.get(f"/api/projects/{project.id}/next/").json()["id"]
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-1"}
    a = client.post(f"/api/items/{item_id}/annotations/", {"value": "dent"}, format="json", **headers)
    b = client.post(f"/api/items/{item_id}/annotations/", {"value": "dent"}, format="json", **headers)
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.json()["annotation"]["id"] == b.json()["annotation"]["id"]
    assert a.json()["next"]["id"] == b.json()["next"]["id"]
    assert Annotation.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "value"),
        ({"value": "scratch"}, "value"),
        ({"skip_reason": "bored"}, "skip_reason"),
        ({"value": "dent", "labeler": 1}, "labeler"),
        ({"value": "dent", "time_spent_ms": -5}, "time_spent_ms"),
    ],
)
def test_bad_submissions_get_400_and_store_nothing(project, labeler, payload, field):
    ItemFactory(project=project)
    client = client_for(labeler)
    item_id = client.get(f"/api/projects/{project.id}/next/").json()["id"]
    response = client.post(f"/api/items/{item_id}/annotations/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Annotation.objects.exists()


def test_skip_with_reason(project, labeler):
    ItemFactory(project=project)
    client = client_for(labeler)
    item_id = client.get(f"/api/projects/{project.id}/next/").json()["id"]
    response = client.post(
        f"/api/items/{item_id}/annotations/",
        {"skip_reason": "lacks_information", "comment": "too dark"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["annotation"]["skip_reason"] == "lacks_information"


def test_submitting_to_an_unassigned_or_foreign_item_is_404(project, labeler):
    mine = ItemFactory(project=project)
    foreign = ItemFactory(project=ProjectFactory())
    client = client_for(labeler)
    for item in (mine, foreign):
        response = client.post(f"/api/items/{item.id}/annotations/", {"value": "dent"}, format="json")
        assert response.status_code == 404
        assert error_code(response) == "not_found"


def test_non_member_gets_404_from_next(project, user):
    ItemFactory(project=project)
    assert client_for(user).get(f"/api/projects/{project.id}/next/").status_code == 404


def test_blind_payload_does_not_vary_with_other_labelers_answers(project):
    a, b = (MembershipFactory(project=project, role=Role.LABELER).user for _ in range(2))
    item = ItemFactory(project=project)
    client_a, client_b = client_for(a), client_for(b)
    client_a.get(f"/api/projects/{project.id}/next/")
    seen_before = client_b.get(f"/api/projects/{project.id}/next/").json()
    client_a.post(f"/api/items/{item.id}/annotations/", {"value": "dent"}, format="json")
    seen_after = client_b.get(f"/api/projects/{project.id}/next/").json()
    assert seen_before == seen_after  # same item, same lease; nothing about a's answer
    assert "dent" not in str(seen_after)


def test_progress_counts_only_my_answers(project, labeler):
    ItemFactory.create_batch(2, project=project)
    client = client_for(labeler)
    item_id = client.get(f"/api/projects/{project.id}/next/").json()["id"]
    client.post(f"/api/items/{item_id}/annotations/", {"value": "dent"}, format="json")
    progress = client.get(f"/api/projects/{project.id}/progress/").json()
    assert progress["done_today"] == 1 and progress["done_total"] == 1
    assert progress["skipped_today"] == 0 and progress["skipped_total"] == 0
    assert progress["reserved"] == 1  # the next item came with the submit
    assert progress["open_slots"] == 2 * 3 - 2


def test_progress_counts_skips_apart_from_answers(project, labeler):
    ItemFactory.create_batch(3, project=project)
    client = client_for(labeler)
    item_id = client.get(f"/api/projects/{project.id}/next/").json()["id"]
    body = {"skip_reason": "lacks_information"}
    item_id = client.post(f"/api/items/{item_id}/annotations/", body, format="json").json()["next"]["id"]
    client.post(f"/api/items/{item_id}/annotations/", {"value": "dent"}, format="json")
    progress = client.get(f"/api/projects/{project.id}/progress/").json()
    assert (progress["done_today"], progress["skipped_today"]) == (1, 1)
    assert (progress["done_total"], progress["skipped_total"]) == (1, 1)


def test_submit_without_next_reserves_nothing(project, labeler):
    ItemFactory.create_batch(2, project=project)
    client = client_for(labeler)
    item_id = client.get(f"/api/projects/{project.id}/next/").json()["id"]
    response = client.post(f"/api/items/{item_id}/annotations/?next=false", {"value": "dent"}, format="json")
    assert response.status_code == 201 and response.json()["next"] is None
    assert client.get(f"/api/projects/{project.id}/progress/").json()["reserved"] == 0


def test_progress_reuses_the_projects_open_slots_for_a_few_seconds(
    project, labeler, django_assert_num_queries
):
    ItemFactory.create_batch(2, project=project)
    client = client_for(labeler)
    with django_assert_num_queries(5):  # token, project with membership, own counts, reserved, open slots
        first = client.get(f"/api/projects/{project.id}/progress/")
    assert first.json()["open_slots"] == 6
    with django_assert_num_queries(4):  # the project-wide sum comes from the cache
        second = client.get(f"/api/projects/{project.id}/progress/")
    assert second.json() == first.json()
