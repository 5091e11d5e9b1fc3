import pytest

from labeling.models import Item, Role
from labeling.services.assignments import assignment_reserve_next
from labeling.services.submissions import annotation_submit
from tests.factories import ItemFactory, MembershipFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def test_manager_raises_k_for_a_slice(project, staff):
    a = ItemFactory(project=project, metadata={"factory": "A"})
    b = ItemFactory(project=project, metadata={"factory": "B"})
    response = client_for(staff).post(
        f"/api/projects/{project.id}/items/overlap/", {"slice": {"factory": "A"}, "target": 5}, format="json"
    )
    assert response.status_code == 200 and response.json()["updated"] == 1
    assert Item.objects.get(pk=a.pk).target == 5
    assert Item.objects.get(pk=b.pk).target == 3


def test_lowering_k_never_drops_below_answers_taken(project, staff):
    item = ItemFactory(project=project)
    labelers = [MembershipFactory(project=project, role=Role.LABELER).user for _ in range(2)]
    for user in labelers:
        assignment_reserve_next(project=project, labeler=user)
    response = client_for(staff).post(
        f"/api/projects/{project.id}/items/overlap/", {"item_ids": [item.id], "target": 1}, format="json"
    )
    assert response.status_code == 200
    assert Item.objects.get(pk=item.pk).target == 2


def test_slice_keys_are_data_not_lookups(project, staff):
    ItemFactory(project=project, metadata={"factory": "A"})
    response = client_for(staff).post(
        f"/api/projects/{project.id}/items/overlap/",
        {"slice": {"factory__contains": "A"}, "target": 4},
        format="json",
    )
    assert response.status_code == 200 and response.json()["updated"] == 0


def test_empty_selection_is_400(project, staff):
    response = client_for(staff).post(
        f"/api/projects/{project.id}/items/overlap/", {"target": 4}, format="json"
    )
    assert response.status_code == 400


def test_labeler_cannot_change_k_or_gold(project):
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    item = ItemFactory(project=project)
    client = client_for(labeler)
    assert (
        client.post(
            f"/api/projects/{project.id}/items/overlap/", {"item_ids": [item.id], "target": 9}, format="json"
        ).status_code
        == 403
    )
    assert (
        client.put(
            f"/api/projects/{project.id}/items/{item.id}/gold/", {"value": "dent"}, format="json"
        ).status_code
        == 403
    )
    assert Item.objects.get(pk=item.pk).target == 3 and not Item.objects.get(pk=item.pk).is_gold


def test_gold_value_is_validated_and_unset_restores_slots(project, staff):
    item = ItemFactory(project=project)
    client = client_for(staff)
    bad = client.put(f"/api/projects/{project.id}/items/{item.id}/gold/", {"value": "scratch"}, format="json")
    assert bad.status_code == 400
    ok = client.put(f"/api/projects/{project.id}/items/{item.id}/gold/", {"value": "dent"}, format="json")
    assert ok.status_code == 200 and ok.json()["gold_value"] == "dent"
    project.gold_rate = 1.0
    project.save()
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    a = assignment_reserve_next(project=project, labeler=labeler)
    annotation_submit(item_id=a.item_id, labeler=labeler, value="dent")
    assert client.delete(f"/api/projects/{project.id}/items/{item.id}/gold/").status_code == 204
    item.refresh_from_db()
    assert (item.is_gold, item.slots_taken) == (False, 1)
