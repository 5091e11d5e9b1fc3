"""One Idempotency-Key, one answer: parallel requests on PostgreSQL, each with its own connection."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connection, connections, transaction

from labeling.models import Annotation, Assignment, AssignmentStatus, Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db(transaction=True)

VALUES = ["dent", "none", "deep scratch", "shallow scratch"]


def _parallel_submits(user, item_ids: list[int], key: str) -> list:
    barrier = threading.Barrier(len(item_ids))

    def submit(index_and_item):
        index, item_id = index_and_item
        client = client_for(user)
        barrier.wait()
        try:
            return client.post(
                f"/api/items/{item_id}/annotations/?next=false",
                {"value": VALUES[index % len(VALUES)]},
                format="json",
                HTTP_IDEMPOTENCY_KEY=key,
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(item_ids)) as pool:
        return list(pool.map(submit, enumerate(item_ids)))


def test_ten_parallel_submits_with_one_key_store_one_answer_and_all_get_it():
    assert connection.vendor == "postgresql"
    project = ProjectFactory()
    item = ItemFactory(project=project)
    user = MembershipFactory(project=project, role=Role.LABELER).user
    assert client_for(user).get(f"/api/projects/{project.id}/next/").json()["id"] == item.id
    responses = _parallel_submits(user, [item.id] * 10, "retry-1")
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert Annotation.objects.filter(labeler=user).count() == 1
    stored = Annotation.objects.get(labeler=user)
    assert {r.json()["annotation"]["id"] for r in responses} == {stored.id}
    assert {r.json()["annotation"]["value"] for r in responses} == {stored.value}


def test_one_key_sent_for_two_items_at_once_stores_one_answer_and_the_other_is_409():
    project = ProjectFactory()
    first, second = ItemFactory.create_batch(2, project=project)
    user = MembershipFactory(project=project, role=Role.LABELER).user
    for item in (first, second):  # e.g. an imported assignment and a reservation
        Assignment.objects.create(project=project, item=item, labeler=user, status=AssignmentStatus.SUBMITTED)
    responses = _parallel_submits(user, [first.id, second.id] * 4, "shared-key")
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and set(codes) <= {200, 201, 409}, codes
    assert Annotation.objects.filter(labeler=user, idempotency_key="shared-key").count() == 1


def test_the_database_refuses_a_second_row_with_the_same_labeler_and_key():
    project = ProjectFactory()
    first, second = ItemFactory.create_batch(2, project=project)
    user = MembershipFactory(project=project, role=Role.LABELER).user
    rows = [
        Assignment.objects.create(project=project, item=item, labeler=user, status=AssignmentStatus.SUBMITTED)
        for item in (first, second)
    ]
    version = project.schema_versions.get()
    common = {"labeler": user, "schema_version": version, "value": "dent", "idempotency_key": "k"}
    Annotation.objects.create(assignment=rows[0], item=first, **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Annotation.objects.create(assignment=rows[1], item=second, **common)
    Annotation.objects.create(assignment=rows[1], item=second, **{**common, "idempotency_key": ""})
