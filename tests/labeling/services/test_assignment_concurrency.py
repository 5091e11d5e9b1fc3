"""The engine under real concurrency: many threads, each with its own PostgreSQL connection."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.db.models import Count

from core.errors import Conflict
from labeling.models import Annotation, Assignment, Item, Role
from labeling.services.assignments import assignment_reserve_next
from labeling.services.submissions import annotation_submit
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _label_until_done(project, labeler, barrier) -> int:
    barrier.wait()
    done = 0
    rng = random.Random(labeler.id)
    try:
        while True:
            assignment = assignment_reserve_next(project=project, labeler=labeler)
            if assignment is None:
                return done
            value = rng.choice(["deep scratch", "shallow scratch", "dent", "none"])
            try:
                annotation_submit(item_id=assignment.item_id, labeler=labeler, value=value)
            except Conflict:
                continue
            done += 1
    finally:
        connections.close_all()


def test_30_labelers_300_items_k3_end_with_exactly_900_annotations():
    assert connection.vendor == "postgresql"
    project = ProjectFactory(overlap=3)
    Item.objects.bulk_create(
        Item(project=project, kind="image", external_id=f"i{i}", target=3) for i in range(300)
    )
    labelers = [UserFactory() for _ in range(30)]
    for user in labelers:
        MembershipFactory(project=project, user=user, role=Role.LABELER)
    barrier = threading.Barrier(len(labelers))
    with ThreadPoolExecutor(max_workers=len(labelers)) as pool:
        counts = list(pool.map(lambda u: _label_until_done(project, u, barrier), labelers))

    assert sum(counts) == 900
    assert Annotation.objects.filter(is_current=True).count() == 900
    per_item = Annotation.objects.values("item").annotate(n=Count("pk"))
    assert {row["n"] for row in per_item} == {3}
    per_pair = Annotation.objects.values("item", "labeler").annotate(n=Count("pk")).filter(n__gt=1)
    assert not per_pair.exists()
    assert set(Item.objects.values_list("slots_taken", flat=True)) == {3}
    assert Assignment.objects.filter(status="reserved").count() == 0


def test_two_labelers_never_hold_the_last_slot():
    project = ProjectFactory(overlap=1)
    for round_ in range(20):
        Item.objects.create(project=project, kind="image", external_id=f"last{round_}", target=1)
    labelers = [UserFactory() for _ in range(8)]
    for user in labelers:
        MembershipFactory(project=project, user=user, role=Role.LABELER)
    barrier = threading.Barrier(len(labelers))

    def grab(user):
        barrier.wait()
        try:
            got = []
            while (a := assignment_reserve_next(project=project, labeler=user)) is not None:
                got.append(a.item_id)
                annotation_submit(item_id=a.item_id, labeler=user, value="dent")
            return got
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(labelers)) as pool:
        results = list(pool.map(grab, labelers))
    taken = [item for got in results for item in got]
    assert len(taken) == len(set(taken)) == 20
