"""Adaptive overlap under real concurrency: many threads, each with its own PostgreSQL
connection, answering at once; every item must end consistent with all of its answers."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.db.models import Count

from core.errors import Conflict
from labeling.models import Annotation, Assignment, Item, Role
from labeling.services.assignments import assignment_reserve_next
from labeling.services.submissions import annotation_submit
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _label(project, labeler, barrier=None) -> int:
    if barrier is not None:
        barrier.wait()
    rng = random.Random(labeler.id)
    done = 0
    try:
        while (assignment := assignment_reserve_next(project=project, labeler=labeler)) is not None:
            # Items 0–59 are easy (everyone agrees), the rest split between two classes.
            easy = int(assignment.item.external_id[1:]) < 60
            value = "dent" if easy or rng.random() < 0.5 else "none"
            try:
                annotation_submit(item_id=assignment.item_id, labeler=labeler, value=value)
            except Conflict:
                continue
            done += 1
        return done
    finally:
        connections.close_all()


def test_20_labelers_at_once_leave_every_item_decided_on_all_its_answers():
    project = ProjectFactory(overlap_policy="adaptive", min_answers=2, max_answers=4, target_confidence=0.9)
    Item.objects.bulk_create(
        Item(project=project, kind="image", external_id=f"i{i}", target=2) for i in range(100)
    )
    labelers = [UserFactory() for _ in range(20)]
    for user in labelers:
        MembershipFactory(project=project, user=user, role=Role.LABELER)
    barrier = threading.Barrier(len(labelers))
    with ThreadPoolExecutor(max_workers=len(labelers)) as pool:
        done = sum(pool.map(lambda u: _label(project, u, barrier), labelers))
    # A labeler who found nothing left may have stopped before another's answer raised an
    # item's target: rounds after the race give those items their last answers.
    while extra := sum(_label(project, u) for u in labelers):
        done += extra

    assert Annotation.objects.filter(is_current=True).count() == done
    assert not Annotation.objects.values("item", "labeler").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert not Assignment.objects.filter(status="reserved").exists()
    for item in Item.objects.filter(project=project):
        values = list(Annotation.objects.filter(item=item).values_list("value", flat=True))
        share = max(values.count(v) for v in set(values)) / len(values)
        confident = len(values) >= 2 and share >= 0.9
        # The last answer decided with every answer; the item is closed one way or the other.
        assert item.confidence == pytest.approx(share)
        assert len(values) == item.slots_taken == item.target <= 4
        assert item.disagrees_after_max == (not confident)
        if not confident:
            assert item.target == 4
        if int(item.external_id[1:]) < 60:
            assert item.target == 2
