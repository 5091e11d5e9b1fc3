"""The assignment engine: reserve the next item for a labeler and reclaim leases (answers: submissions).

All locking lives here. Invariants, also enforced by the database:
- an item never has more than ``target`` (k) slots taken (CHECK item_slots_within_target);
- a labeler has at most one assignment per item, ever (UNIQUE assignment_unique_item_labeler);
- an assignment has exactly one current annotation (partial UNIQUE).
On PostgreSQL the pool is read with ``FOR UPDATE SKIP LOCKED``: two labelers never wait
for each other and never get the same last slot. On SQLite writes are serialized anyway.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.expressions import NegatedExpression
from django.utils import timezone

from core.errors import PermissionDenied
from core.shared_state import due_once_per
from labeling.models import (
    Assignment,
    AssignmentStatus,
    Item,
    Project,
    ProjectMembership,
)
from labeling.models.projects import LABELING_ROLES
from labeling.selection import gold_is_due, lease_expiry, lease_is_live

RECLAIM_BATCH = 500


def _reclaim_if_due(project: Project, now: datetime) -> None:
    """`next` reclaims a project's expired leases at most every LEASE_RECLAIM_EVERY_SECONDS
    across all web nodes (a shared throttle); the beat task sweeps every project each minute."""
    every = getattr(settings, "LEASE_RECLAIM_EVERY_SECONDS", 5)
    if due_once_per(key=f"labeling:lease-reclaim:{project.id}", seconds=every):
        leases_reclaim(project=project, now=now)


def _reserve(project: Project, labeler, item: Item, now: datetime, *, counts_slot: bool) -> Assignment:
    if counts_slot:
        Item.objects.filter(pk=item.pk).update(slots_taken=F("slots_taken") + 1)
    return Assignment.objects.create(
        project=project,
        item=item,
        labeler=labeler,
        status=AssignmentStatus.RESERVED,
        lease_expires_at=lease_expiry(now, project.lease_seconds),
    )


def _new_to_labeler(labeler: User) -> NegatedExpression:
    return ~Exists(Assignment.objects.filter(item=OuterRef("pk"), labeler=labeler))


# What the labeler's payload needs; heavier columns (quality, metadata) stay in the table.
PAYLOAD_FIELDS = (
    "id",
    "project_id",
    "kind",
    "external_id",
    "data",
    "media",
    "thumbnail",
    "waveform",
    "is_gold",
)


def _pick_gold(project: Project, labeler) -> Item | None:
    # Gold items go to every labeler once; they hold no slot (k does not apply).
    return (
        Item.objects.filter(project=project, is_gold=True)
        .filter(_new_to_labeler(labeler))
        .order_by("id")
        .only(*PAYLOAD_FIELDS)
        .first()
    )


def _pick_from_pool(project: Project, labeler) -> Item | None:
    # Mirrors labeling.selection.pick_from_pool; walks the partial index item_open_pool.
    return (
        Item.objects.filter(project=project, is_gold=False, slots_taken__lt=F("target"))
        .filter(_new_to_labeler(labeler))
        .order_by("-slots_taken", "id")
        .select_for_update(skip_locked=True, of=("self",))
        .only(*PAYLOAD_FIELDS)
        .first()
    )


def _gold_due(project: Project, labeler) -> bool:
    if project.gold_rate <= 0:
        return False
    counts = Assignment.objects.filter(project=project, labeler=labeler).aggregate(
        answered=Count("pk"), gold=Count("pk", filter=Q(item__is_gold=True))
    )
    return gold_is_due(answered=counts["answered"], gold_answered=counts["gold"], gold_rate=project.gold_rate)


def _reservation(project: Project, labeler) -> Assignment | None:
    return (
        Assignment.objects.filter(project=project, labeler=labeler, status=AssignmentStatus.RESERVED)
        .select_related("item")
        .first()
    )


def _expire(assignment: Assignment) -> None:
    Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.EXPIRED, lease_expires_at=None)
    if not assignment.item.is_gold:
        Item.objects.filter(pk=assignment.item_id).update(slots_taken=F("slots_taken") - 1)


# One statement on PostgreSQL: pick the fullest open item nobody else holds (SKIP LOCKED), take a
# slot and create the reservation. Same rule as _pick_from_pool + _reserve, three round trips fewer.
_RESERVE_SQL = """
WITH picked AS (
    SELECT i.id FROM labeling_item i
    WHERE i.project_id = %(project)s AND NOT i.is_gold AND i.slots_taken < i.target
      AND NOT EXISTS (
          SELECT 1 FROM labeling_assignment a WHERE a.item_id = i.id AND a.labeler_id = %(labeler)s
      )
    ORDER BY i.slots_taken DESC, i.id
    LIMIT 1
    FOR UPDATE OF i SKIP LOCKED
), taken AS (
    UPDATE labeling_item SET slots_taken = labeling_item.slots_taken + 1 FROM picked
    WHERE labeling_item.id = picked.id
    RETURNING labeling_item.id, labeling_item.project_id, labeling_item.kind, labeling_item.external_id,
              labeling_item.data, labeling_item.media, labeling_item.thumbnail, labeling_item.waveform,
              labeling_item.metadata
), made AS (
    INSERT INTO labeling_assignment (project_id, item_id, labeler_id, status, lease_expires_at, created_at,
                                     updated_at)
    SELECT %(project)s, taken.id, %(labeler)s, 'reserved', %(lease)s, %(now)s, %(now)s FROM taken
    RETURNING id, item_id, lease_expires_at, created_at
)
SELECT made.id, made.lease_expires_at, made.created_at, taken.id, taken.project_id, taken.kind,
       taken.external_id, taken.data::text, taken.media, taken.thumbnail, taken.waveform, taken.metadata::text
FROM made JOIN taken ON taken.id = made.item_id
"""


def _reserve_from_pool_sql(project: Project, labeler, now: datetime) -> Assignment | None:
    import json

    args = {
        "project": project.id,
        "labeler": labeler.id,
        "lease": lease_expiry(now, project.lease_seconds),
        "now": now,
    }
    with connection.cursor() as cursor:
        cursor.execute(_RESERVE_SQL, args)
        row = cursor.fetchone()
    if row is None:
        return None
    assignment_id, lease, created, item_id, project_id, kind, external_id, *rest = row
    data, media, thumbnail, waveform, metadata = rest
    item = Item(
        id=item_id,
        project_id=project_id,
        kind=kind,
        external_id=external_id,
        data=json.loads(data),
        media=media,
        thumbnail=thumbnail,
        waveform=waveform,
        metadata=json.loads(metadata),
        is_gold=False,
    )
    return Assignment(
        id=assignment_id,
        project=project,
        item=item,
        labeler=labeler,
        status=AssignmentStatus.RESERVED,
        lease_expires_at=lease,
        created_at=created,
        updated_at=created,
    )


def assignment_reserve_next(
    *, project: Project, labeler: User, known_free: bool = False
) -> Assignment | None:
    """The labeler's next item, reserved with a lease; their live reservation if they have one.

    A labeler holds at most one reservation per project (a partial unique constraint), so
    two tabs or a double click can't hoard items. Returns None when nothing is left.
    ``known_free``: the caller just answered the labeler's reservation, so they hold none
    (and :func:`annotation_submit` checked their role).
    """
    if not known_free:
        labeler_check_role(project_id=project.id, labeler=labeler)
    now = timezone.now()
    _reclaim_if_due(project, now)
    try:
        with transaction.atomic():
            if not known_free:
                current = _reservation(project, labeler)
                if current is not None:
                    if lease_is_live(current.lease_expires_at, now):
                        return current
                    _expire(current)
            if _gold_due(project, labeler):
                gold = _pick_gold(project, labeler)
                if gold is not None:
                    return _reserve(project, labeler, gold, now, counts_slot=False)
            if connection.vendor == "postgresql":
                return _reserve_from_pool_sql(project, labeler, now)
            item = _pick_from_pool(project, labeler)
            if item is None:
                return None
            return _reserve(project, labeler, item, now, counts_slot=True)
    except IntegrityError:
        # The same labeler's concurrent request reserved first: hand out that reservation.
        return _reservation(project, labeler)


def labeler_check_role(*, project_id: int, labeler: User) -> None:
    """Only members with a labeling role reserve items (a pipeline token may not label)."""
    member = ProjectMembership.objects.filter(project_id=project_id, user_id=labeler.pk)
    if not member.filter(role__in=LABELING_ROLES).exists():
        raise PermissionDenied(f"Only a {' or '.join(LABELING_ROLES)} of this project labels its items.")


def leases_reclaim(*, project: Project | None = None, now: datetime | None = None) -> int:
    """Expire reservations whose lease ran out and give their slots back to the pool."""
    now = now or timezone.now()
    with transaction.atomic():
        expired = Assignment.objects.filter(status=AssignmentStatus.RESERVED, lease_expires_at__lte=now)
        if project is not None:
            expired = expired.filter(project=project)
        rows = list(
            expired.select_for_update(skip_locked=True, of=("self",)).values_list(
                "id", "item_id", "item__is_gold"
            )[:RECLAIM_BATCH]
        )
        if not rows:
            return 0
        Assignment.objects.filter(pk__in=[row[0] for row in rows]).update(
            status=AssignmentStatus.EXPIRED, lease_expires_at=None
        )
        freed: dict[int, int] = {}
        for _, item_id, is_gold in rows:
            if not is_gold:
                freed[item_id] = freed.get(item_id, 0) + 1
        by_count: dict[int, list[int]] = {}
        for item_id, n in freed.items():
            by_count.setdefault(n, []).append(item_id)
        for n, item_ids in by_count.items():
            Item.objects.filter(pk__in=item_ids).update(slots_taken=F("slots_taken") - n)
        return len(rows)


def assignment_release(*, assignment: Assignment) -> None:
    """Give a live reservation back (the labeler closed the item without answering)."""
    with transaction.atomic():
        locked = Assignment.objects.select_for_update().filter(
            pk=assignment.pk, status=AssignmentStatus.RESERVED
        )
        if not locked.update(status=AssignmentStatus.EXPIRED, lease_expires_at=None):
            return
        if not assignment.item.is_gold:
            Item.objects.filter(pk=assignment.item_id).update(slots_taken=F("slots_taken") - 1)
