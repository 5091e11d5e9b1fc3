"""The assignment engine: reserve the next item for a labeler, take answers, reclaim leases.

All locking lives here. Invariants, also enforced by the database:
- an item never has more than ``target`` (k) slots taken (CHECK item_slots_within_target);
- a labeler has at most one assignment per item, ever (UNIQUE assignment_unique_item_labeler);
- an assignment has exactly one current annotation (partial UNIQUE).
On PostgreSQL the pool is read with ``FOR UPDATE SKIP LOCKED``: two labelers never wait
for each other and never get the same last slot. On SQLite writes are serialized anyway.
"""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
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
    ProjectMembership,
    SkipReason,
)
from labeling.selection import gold_is_due, lease_expiry

RECLAIM_BATCH = 500


def _lock_labeler(project: Project, labeler: AbstractBaseUser) -> None:
    """Serialize one labeler's own requests (double clicks, two tabs); others are unaffected."""
    locked = (
        ProjectMembership.objects.select_for_update()
        .filter(project=project, user=labeler)
        .values_list("id", flat=True)
    )
    if not list(locked):
        raise NotFound("Project not found.")


def _reserve(project: Project, labeler, item_id: int, now: datetime, *, counts_slot: bool) -> Assignment:
    if counts_slot:
        Item.objects.filter(pk=item_id).update(slots_taken=F("slots_taken") + 1)
    return Assignment.objects.create(
        project=project,
        item_id=item_id,
        labeler=labeler,
        status=AssignmentStatus.RESERVED,
        lease_expires_at=lease_expiry(now, project.lease_seconds),
    )


def _new_to_labeler(labeler) -> Exists:
    return ~Exists(Assignment.objects.filter(item=OuterRef("pk"), labeler=labeler))


def _pick_gold(project: Project, labeler) -> int | None:
    # Gold items go to every labeler once; they hold no slot (k does not apply).
    return (
        Item.objects.filter(project=project, is_gold=True)
        .filter(_new_to_labeler(labeler))
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def _pick_from_pool(project: Project, labeler) -> int | None:
    # Mirrors labeling.selection.pick_from_pool; walks the partial index item_open_pool.
    return (
        Item.objects.filter(project=project, is_gold=False, slots_taken__lt=F("target"))
        .filter(_new_to_labeler(labeler))
        .order_by("-slots_taken", "id")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("id", flat=True)
        .first()
    )


def _gold_due(project: Project, labeler) -> bool:
    if project.gold_rate <= 0:
        return False
    counts = Assignment.objects.filter(project=project, labeler=labeler).aggregate(
        answered=Count("pk"), gold=Count("pk", filter=Q(item__is_gold=True))
    )
    return gold_is_due(answered=counts["answered"], gold_answered=counts["gold"], gold_rate=project.gold_rate)


def assignment_reserve_next(*, project: Project, labeler: AbstractBaseUser) -> Assignment | None:
    """The labeler's next item, reserved with a lease; their live reservation if they have one.

    Returns None when nothing is left for this labeler.
    """
    now = timezone.now()
    leases_reclaim(project=project, now=now)
    with transaction.atomic():
        _lock_labeler(project, labeler)
        live = (
            Assignment.objects.filter(
                project=project, labeler=labeler, status=AssignmentStatus.RESERVED, lease_expires_at__gt=now
            )
            .order_by("created_at")
            .first()
        )
        if live is not None:
            return live
        if _gold_due(project, labeler):
            gold_id = _pick_gold(project, labeler)
            if gold_id is not None:
                return _reserve(project, labeler, gold_id, now, counts_slot=False)
        item_id = _pick_from_pool(project, labeler)
        if item_id is None:
            return None
        return _reserve(project, labeler, item_id, now, counts_slot=True)


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


def _current_schema(project: Project) -> tuple[LabelSchemaVersion, set[str]]:
    version = (
        LabelSchemaVersion.objects.filter(project=project, published_at__isnull=False)
        .order_by("-number")
        .prefetch_related("classes")
        .first()
    )
    return version, {c.name for c in version.classes.all()}


def _retake_slot(assignment: Assignment) -> None:
    """An expired reservation answered late: take a slot again if one is still free."""
    if assignment.item.is_gold:
        return
    taken = Item.objects.filter(pk=assignment.item_id, slots_taken__lt=F("target")).update(
        slots_taken=F("slots_taken") + 1
    )
    if not taken:
        raise Conflict(
            "Your reservation expired and this item already has all its answers; take the next one."
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
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("project", "item")
            .filter(item_id=item_id, labeler=labeler, project__memberships__user=labeler)
            .first()
        )
        if assignment is None:
            raise NotFound("You have no assignment for this item.")
        schema, class_names = _current_schema(assignment.project)
        if skip_reason:
            value = None
        else:
            value = answer_validate(
                label_kind=assignment.project.label_kind, class_names=class_names, value=value
            )

        current = Annotation.objects.filter(assignment=assignment, is_current=True).first()
        if current is not None and current.value == value and current.skip_reason == skip_reason:
            return current, False
        if assignment.status == AssignmentStatus.EXPIRED:
            _retake_slot(assignment)
        if current is not None:
            current.is_current = False
            current.save(update_fields=["is_current"])
        annotation = Annotation.objects.create(
            assignment=assignment,
            item_id=item_id,
            labeler=labeler,
            schema_version=schema,
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
