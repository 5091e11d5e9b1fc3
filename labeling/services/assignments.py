"""The assignment engine: reserve the next item for a labeler, take answers, reclaim leases.

All locking lives here. Invariants, also enforced by the database:
- an item never has more than ``target`` (k) slots taken (CHECK item_slots_within_target);
- a labeler has at most one assignment per item, ever (UNIQUE assignment_unique_item_labeler);
- an assignment has exactly one current annotation (partial UNIQUE).
On PostgreSQL the pool is read with ``FOR UPDATE SKIP LOCKED``: two labelers never wait
for each other and never get the same last slot. On SQLite writes are serialized anyway.
"""

import time
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.utils import timezone

from labeling.answers import answer_validate
from labeling.errors import Conflict, Invalid, NotFound
from labeling.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    Item,
    LabelSchemaVersion,
    Project,
    SkipReason,
)
from labeling.selection import gold_is_due, lease_expiry, lease_is_live

RECLAIM_BATCH = 500
# Per-process memory of the last opportunistic reclaim per project: `next` reclaims at most
# every LEASE_RECLAIM_EVERY_SECONDS; the beat task sweeps every project each minute anyway.
_last_reclaim: dict[int, float] = {}


def _reclaim_if_due(project: Project, now: datetime) -> None:
    every = getattr(settings, "LEASE_RECLAIM_EVERY_SECONDS", 5)
    clock = time.monotonic()
    if every and clock - _last_reclaim.get(project.id, -every) < every:
        return
    _last_reclaim[project.id] = clock
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


def _new_to_labeler(labeler) -> Exists:
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
    *, project: Project, labeler: AbstractBaseUser, known_free: bool = False
) -> Assignment | None:
    """The labeler's next item, reserved with a lease; their live reservation if they have one.

    A labeler holds at most one reservation per project (a partial unique constraint), so
    two tabs or a double click can't hoard items. Returns None when nothing is left.
    ``known_free``: the caller just answered the labeler's reservation, so they hold none.
    """
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


@lru_cache(maxsize=4096)
def _published_version(version_id: int) -> tuple[int, frozenset[str]]:
    """(number, class names) of a published version. Cached per process: published
    versions never change, so the cache can't go stale."""
    version = LabelSchemaVersion.objects.filter(pk=version_id, published_at__isnull=False).get()
    return version.number, frozenset(version.classes.values_list("name", flat=True))


def _current_version_id() -> Subquery:
    return Subquery(
        LabelSchemaVersion.objects.filter(project=OuterRef("project"), published_at__isnull=False)
        .order_by("-number")
        .values("id")[:1]
    )


def _retake_slot(assignment: Assignment) -> None:
    """An expired reservation answered late: take a slot again if one is still free."""
    if assignment.item_is_gold:
        return
    taken = Item.objects.filter(pk=assignment.item_id, slots_taken__lt=F("target")).update(
        slots_taken=F("slots_taken") + 1
    )
    if not taken:
        raise Conflict(
            "Your reservation expired and this item already has all its answers; take the next one."
        )


# The caller's assignment on the item, locked, with what the answer needs. Written as SQL: the
# ORM's five-way join cost more to plan than to run on the hot path.
_LOCK_SQL = """
SELECT a.id, a.project_id, a.item_id, a.status, a.lease_expires_at, a.created_at, a.updated_at, i.is_gold,
       (SELECT v.id FROM labeling_labelschemaversion v
        WHERE v.project_id = a.project_id AND v.published_at IS NOT NULL ORDER BY v.number DESC LIMIT 1)
FROM labeling_assignment a JOIN labeling_item i ON i.id = a.item_id
WHERE a.item_id = %(item)s AND a.labeler_id = %(labeler)s
  AND EXISTS (
      SELECT 1 FROM labeling_projectmembership m WHERE m.project_id = a.project_id AND m.user_id = %(labeler)s
  )
FOR UPDATE OF a
"""


def _lock_assignment(*, item_id: int, labeler) -> Assignment | None:
    if connection.vendor != "postgresql":  # SQLite (make run): same rows through the ORM
        return (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("project")
            .filter(item_id=item_id, labeler=labeler, project__memberships__user=labeler)
            .annotate(version_id=_current_version_id(), item_is_gold=F("item__is_gold"))
            .first()
        )
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, {"item": item_id, "labeler": labeler.id})
        row = cursor.fetchone()
    if row is None:
        return None
    assignment_id, project_id, item, status, lease, created, updated, is_gold, version_id = row
    assignment = Assignment(
        id=assignment_id,
        project_id=project_id,
        item_id=item,
        labeler=labeler,
        status=status,
        lease_expires_at=lease,
        created_at=created,
        updated_at=updated,
    )
    assignment.item_is_gold = is_gold
    assignment.version_id = version_id
    assignment.project = Project.objects.get(pk=project_id)
    return assignment


# A first answer on PostgreSQL: the annotation and the assignment's new status in one statement.
_FIRST_ANSWER_SQL = """
WITH made AS (
    INSERT INTO labeling_annotation (
        assignment_id, item_id, labeler_id, schema_version_id, value, skip_reason, comment,
        time_spent_ms, is_current, supersedes_id, idempotency_key, source, created_at
    )
    VALUES (
        %(assignment)s, %(item)s, %(labeler)s, %(version)s, %(value)s::jsonb, %(skip)s, %(comment)s,
        %(ms)s, true, NULL, %(key)s, 'labeler', %(now)s
    )
    RETURNING id
), moved AS (
    UPDATE labeling_assignment SET status = %(status)s, lease_expires_at = NULL, updated_at = %(now)s
    WHERE id = %(assignment)s
)
SELECT id FROM made
"""


def _first_answer_sql(assignment, labeler, version, status, now, **fields) -> Annotation:
    import json

    value = fields["value"]
    with connection.cursor() as cursor:
        cursor.execute(
            _FIRST_ANSWER_SQL,
            {
                "assignment": assignment.id,
                "item": assignment.item_id,
                "labeler": labeler.id,
                "version": version.id,
                "value": None if value is None else json.dumps(value),
                "skip": fields["skip_reason"],
                "comment": fields["comment"],
                "ms": fields["time_spent_ms"],
                "key": fields["idempotency_key"],
                "status": status,
                "now": now,
            },
        )
        annotation_id = cursor.fetchone()[0]
    assignment.status, assignment.lease_expires_at, assignment.updated_at = status, None, now
    return Annotation(
        id=annotation_id,
        assignment=assignment,
        item_id=assignment.item_id,
        labeler=labeler,
        schema_version=version,
        value=value,
        skip_reason=fields["skip_reason"],
        comment=fields["comment"],
        time_spent_ms=fields["time_spent_ms"],
        is_current=True,
        idempotency_key=fields["idempotency_key"],
        source="labeler",
        created_at=now,
    )


def annotation_submit(
    *,
    item_id: int,
    labeler: AbstractBaseUser,
    value=None,
    skip_reason: str = "",
    comment: str = "",
    time_spent_ms: int = 0,
    idempotency_key: str = "",
) -> tuple[Annotation, bool]:
    """Store the labeler's answer for their assignment on the item.

    Returns ``(annotation, created)``. A retry with the same ``idempotency_key``, or a
    repeat of the current answer (a double click), returns the existing annotation.
    A different answer supersedes the current one and keeps it as history.
    """
    if skip_reason and skip_reason not in SkipReason.values:
        raise Invalid(
            "Unknown skip reason.", fields={"skip_reason": [f"One of: {', '.join(SkipReason.values)}."]}
        )
    now = timezone.now()
    with transaction.atomic():
        if idempotency_key:
            replay = Annotation.objects.filter(labeler=labeler, idempotency_key=idempotency_key).first()
            if replay is not None:
                if replay.item_id != item_id:
                    raise Conflict("This Idempotency-Key was already used for another item.")
                return replay, False
        assignment = _lock_assignment(item_id=item_id, labeler=labeler)
        if assignment is None:
            raise NotFound("You have no assignment for this item.")
        version_number, class_names = _published_version(assignment.version_id)
        if skip_reason:
            value = None
        else:
            value = answer_validate(
                label_kind=assignment.project.label_kind, class_names=class_names, value=value
            )

        current = None
        if assignment.status in (AssignmentStatus.SUBMITTED, AssignmentStatus.SKIPPED):
            current = Annotation.objects.filter(assignment=assignment, is_current=True).first()
        if current is not None and current.value == value and current.skip_reason == skip_reason:
            return current, False
        if assignment.status == AssignmentStatus.EXPIRED:
            _retake_slot(assignment)
        status = AssignmentStatus.SKIPPED if skip_reason else AssignmentStatus.SUBMITTED
        version = LabelSchemaVersion(
            id=assignment.version_id, number=version_number, project_id=assignment.project_id
        )
        if current is None and connection.vendor == "postgresql":
            return _first_answer_sql(
                assignment,
                labeler,
                version,
                status,
                now,
                value=value,
                skip_reason=skip_reason,
                comment=comment,
                time_spent_ms=time_spent_ms,
                idempotency_key=idempotency_key,
            ), True
        if current is not None:
            current.is_current = False
            current.save(update_fields=["is_current"])
        annotation = Annotation.objects.create(
            assignment=assignment,
            item_id=item_id,
            labeler=labeler,
            schema_version=LabelSchemaVersion(
                id=assignment.version_id, number=version_number, project_id=assignment.project_id
            ),
            value=value,
            skip_reason=skip_reason,
            comment=comment,
            time_spent_ms=time_spent_ms,
            supersedes=current,
            idempotency_key=idempotency_key,
        )
        assignment.status = AssignmentStatus.SKIPPED if skip_reason else AssignmentStatus.SUBMITTED
        assignment.lease_expires_at = None
        assignment.updated_at = now
        assignment.save(update_fields=["status", "lease_expires_at", "updated_at"])
        return annotation, True


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
