from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from core.errors import Conflict, Invalid, NotFound
from labeling.models import Annotation, Assignment, AssignmentStatus, Item, Role
from labeling.selection import PoolItem, pick_from_pool
from labeling.services.assignments import assignment_reserve_next, leases_reclaim
from labeling.services.submissions import annotation_submit
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelers(project):
    return [MembershipFactory(project=project, role=Role.LABELER).user for _ in range(4)]


def test_next_reserves_fullest_item_first(project, labelers):
    items = ItemFactory.create_batch(3, project=project)
    first = assignment_reserve_next(project=project, labeler=labelers[0])
    assert first.item_id == items[0].id  # all empty: oldest
    annotation_submit(item_id=first.item_id, labeler=labelers[0], value="dent")
    second = assignment_reserve_next(project=project, labeler=labelers[1])
    assert second.item_id == items[0].id  # the item closest to completion


def test_sql_order_matches_the_pure_rule(project, labelers):
    items = ItemFactory.create_batch(6, project=project)
    Item.objects.filter(pk=items[3].pk).update(slots_taken=2)
    Item.objects.filter(pk=items[1].pk).update(slots_taken=1)
    Item.objects.filter(pk=items[5].pk).update(slots_taken=3)  # complete
    pool = [PoolItem(i.id, i.slots_taken, i.target, i.is_gold) for i in Item.objects.filter(project=project)]
    expected = pick_from_pool(pool, already_assigned=set())
    assert assignment_reserve_next(project=project, labeler=labelers[0]).item_id == expected.id == items[3].id


def test_live_reservation_is_resumed_not_duplicated(project, labelers):
    ItemFactory.create_batch(3, project=project)
    a = assignment_reserve_next(project=project, labeler=labelers[0])
    b = assignment_reserve_next(project=project, labeler=labelers[0])
    assert a.pk == b.pk
    assert Assignment.objects.filter(labeler=labelers[0]).count() == 1


def test_item_never_gets_more_than_k_and_labeler_never_twice(project, labelers):
    project.overlap = 2
    project.save()
    item = ItemFactory(project=project, target=2)
    got = [assignment_reserve_next(project=project, labeler=u) for u in labelers]
    assert [a is not None for a in got] == [True, True, False, False]
    item.refresh_from_db()
    assert item.slots_taken == 2
    annotation_submit(item_id=item.id, labeler=labelers[0], value="dent")
    assert assignment_reserve_next(project=project, labeler=labelers[0]) is None


def test_database_refuses_more_slots_than_target(project):
    item = ItemFactory(project=project, target=1)
    Item.objects.filter(pk=item.pk).update(slots_taken=1)
    with pytest.raises(IntegrityError):
        Item.objects.filter(pk=item.pk).update(slots_taken=2)


def test_expired_lease_returns_the_slot(project, labelers):
    item = ItemFactory(project=project, target=1)
    a = assignment_reserve_next(project=project, labeler=labelers[0])
    assert assignment_reserve_next(project=project, labeler=labelers[1]) is None
    Assignment.objects.filter(pk=a.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    b = assignment_reserve_next(project=project, labeler=labelers[1])
    assert b is not None and b.item_id == item.id
    a.refresh_from_db()
    assert a.status == AssignmentStatus.EXPIRED
    # The slow labeler answers late: the item is full again, so they get a 409, nothing stored.
    with pytest.raises(Conflict):
        annotation_submit(item_id=item.id, labeler=labelers[0], value="dent")
    assert not Annotation.objects.exists()


def test_late_answer_is_kept_when_a_slot_is_free(project, labelers):
    item = ItemFactory(project=project, target=2)
    a = assignment_reserve_next(project=project, labeler=labelers[0])
    Assignment.objects.filter(pk=a.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert leases_reclaim(project=project) == 1
    _, created = annotation_submit(item_id=item.id, labeler=labelers[0], value="dent")
    assert created
    item.refresh_from_db()
    assert item.slots_taken == 1


def test_resubmit_keeps_history_and_one_current(project, labelers):
    ItemFactory(project=project)
    a = assignment_reserve_next(project=project, labeler=labelers[0])
    first, _ = annotation_submit(item_id=a.item_id, labeler=labelers[0], value="dent")
    again, created_again = annotation_submit(item_id=a.item_id, labeler=labelers[0], value="dent")
    assert again.pk == first.pk and not created_again  # double click
    second, created = annotation_submit(item_id=a.item_id, labeler=labelers[0], value="none")
    assert created and second.supersedes_id == first.pk
    assert Annotation.objects.filter(assignment=a).count() == 2
    assert list(Annotation.objects.filter(assignment=a, is_current=True).values_list("value", flat=True)) == [
        "none"
    ]


def test_idempotency_key_replays(project, labelers):
    items = ItemFactory.create_batch(2, project=project)
    a = assignment_reserve_next(project=project, labeler=labelers[0])
    first, _ = annotation_submit(item_id=a.item_id, labeler=labelers[0], value="dent", idempotency_key="k1")
    replay, created = annotation_submit(
        item_id=a.item_id, labeler=labelers[0], value="none", idempotency_key="k1"
    )
    assert replay.pk == first.pk and not created and replay.value == "dent"
    other = items[1] if a.item_id == items[0].id else items[0]
    with pytest.raises(Conflict):
        annotation_submit(item_id=other.id, labeler=labelers[0], value="dent", idempotency_key="k1")


def test_skip_is_an_answer_with_a_reason(project, labelers):
    ItemFactory(project=project)
    a = assignment_reserve_next(project=project, labeler=labelers[0])
    annotation, _ = annotation_submit(item_id=a.item_id, labeler=labelers[0], skip_reason="lacks_information")
    assert annotation.value is None and annotation.skip_reason == "lacks_information"
    a.refresh_from_db()
    assert a.status == AssignmentStatus.SKIPPED
    with pytest.raises(Invalid):
        annotation_submit(item_id=a.item_id, labeler=labelers[0], skip_reason="bored")


def test_answer_outside_schema_is_refused_and_nothing_written(project, labelers):
    ItemFactory(project=project)
    a = assignment_reserve_next(project=project, labeler=labelers[0])
    with pytest.raises(Invalid, match="Unknown class"):
        annotation_submit(item_id=a.item_id, labeler=labelers[0], value="scratch")
    assert not Annotation.objects.exists()


def test_no_assignment_no_answer(project, labelers):
    item = ItemFactory(project=project)
    with pytest.raises(NotFound):
        annotation_submit(item_id=item.id, labeler=labelers[0], value="dent")
    stranger_project = ProjectFactory()
    stranger_item = ItemFactory(project=stranger_project)
    with pytest.raises(NotFound):
        annotation_submit(item_id=stranger_item.id, labeler=labelers[0], value="dent")


def test_gold_items_interleave_at_the_rate_for_every_labeler(project, labelers):
    project.gold_rate = 0.5
    project.save()
    gold = ItemFactory(project=project, is_gold=True, gold_value="dent")
    ItemFactory.create_batch(3, project=project)
    for user in labelers[:3]:
        a = assignment_reserve_next(project=project, labeler=user)
        assert a.item_id == gold.id  # first item of every stream is gold at rate 0.5
        annotation_submit(item_id=a.item_id, labeler=user, value="dent")
    gold.refresh_from_db()
    assert gold.slots_taken == 0  # gold holds no slot: k does not apply


def test_beat_task_reclaims_every_expired_lease(project, labelers):
    from labeling.tasks import leases_reclaim_task

    ItemFactory.create_batch(2, project=project, target=1)
    for user in labelers[:2]:
        assignment_reserve_next(project=project, labeler=user)
    Assignment.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert leases_reclaim_task.apply().get() == 2
    assert set(Item.objects.values_list("slots_taken", flat=True)) == {0}


def test_database_allows_one_reservation_per_labeler(project, labelers):
    items = ItemFactory.create_batch(2, project=project)
    Assignment.objects.create(project=project, item=items[0], labeler=labelers[0], status="reserved")
    with pytest.raises(IntegrityError):
        Assignment.objects.create(project=project, item=items[1], labeler=labelers[0], status="reserved")


def test_expired_own_reservation_is_replaced_by_a_fresh_one(project, labelers):
    ItemFactory.create_batch(2, project=project, target=1)
    first = assignment_reserve_next(project=project, labeler=labelers[0])
    Assignment.objects.filter(pk=first.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    second = assignment_reserve_next(project=project, labeler=labelers[0])
    assert second.pk != first.pk and second.status == AssignmentStatus.RESERVED
