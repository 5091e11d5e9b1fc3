"""Taking a labeler's answer: the assignment locked, the answer validated and stored once.

A retry with the same Idempotency-Key, or the same answer twice, stores nothing new; a changed
answer supersedes the current one and keeps it as history. On PostgreSQL the lock and the first
answer are single SQL statements (the hot path of the labeling loop).
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import NoReturn

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from core.errors import Conflict, Invalid, NotFound
from labeling.answers import answer_validate
from labeling.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    Item,
    LabelSchemaVersion,
    Project,
    SkipReason,
)
from labeling.models.projects import LABELING_ROLES
from labeling.services.adaptive import item_target_decide
from labeling.services.assignments import labeler_check_role


@lru_cache(maxsize=4096)
def _published_version(version_id: int) -> tuple[int, frozenset[str]]:
    """(number, class names) of a published version. Cached per process: published
    versions never change, so the cache can't go stale."""
    version = LabelSchemaVersion.objects.filter(pk=version_id, published_at__isnull=False).get()
    return version.number, frozenset(version.classes.values_list("name", flat=True))


def _current_version_id() -> Subquery:
    return Subquery(LabelSchemaVersion.objects.published(OuterRef("project")).values("id")[:1])


@dataclass(frozen=True, slots=True)
class _Locked:
    """The caller's assignment, locked, with what the answer needs: the project's current
    schema version and whether the item is gold."""

    assignment: Assignment
    version_id: int
    item_is_gold: bool


def _retake_slot(locked: _Locked) -> None:
    """An expired reservation answered late: take a slot again if one is still free."""
    if locked.item_is_gold:
        return
    taken = Item.objects.filter(pk=locked.assignment.item_id, slots_taken__lt=F("target")).update(
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
        AND m.role = ANY(%(roles)s)
  )
FOR UPDATE OF a
"""


def _lock_assignment(*, item_id: int, labeler: User) -> _Locked | None:
    if connection.vendor != "postgresql":  # SQLite (make run): same rows through the ORM
        found = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("project")
            .filter(
                item_id=item_id,
                labeler=labeler,
                project__memberships__user=labeler,
                project__memberships__role__in=LABELING_ROLES,
            )
            .annotate(version_id=_current_version_id(), item_is_gold=F("item__is_gold"))
            .first()
        )
        return None if found is None else _Locked(found, found.version_id, found.item_is_gold)
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, {"item": item_id, "labeler": labeler.id, "roles": list(LABELING_ROLES)})
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
    assignment.project = Project.objects.get(pk=project_id)
    return _Locked(assignment, version_id, is_gold)


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


def submission_authorize(*, item_id: int, labeler) -> None:
    """404 without an assignment on the item, 403 for a role that does not label; else nothing."""
    held = Assignment.objects.filter(item_id=item_id, labeler=labeler, project__memberships__user=labeler)
    project_id = held.values_list("project_id", flat=True).first()
    if project_id is None:
        raise NotFound("You have no assignment for this item.")
    labeler_check_role(project_id=project_id, labeler=labeler)


def _refuse_without_assignment(*, item_id: int, labeler) -> NoReturn:
    """No lockable assignment: 403 for a member whose role does not label (e.g. demoted to
    pipeline with an old reservation); 404 otherwise, as for an item that does not exist."""
    submission_authorize(item_id=item_id, labeler=labeler)
    raise NotFound("You have no assignment for this item.")


def annotation_submit(
    *,
    item_id: int,
    labeler: User,
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
    try:
        return _submit(
            item_id=item_id,
            labeler=labeler,
            value=value,
            skip_reason=skip_reason,
            comment=comment,
            time_spent_ms=time_spent_ms,
            idempotency_key=idempotency_key,
        )
    except IntegrityError:
        # The key is unique per labeler in the database: a concurrent request with the same key
        # (for another item, or racing past the lock) stored first. Answer with that one.
        replay = _replay(labeler=labeler, idempotency_key=idempotency_key, item_id=item_id)
        if replay is None:
            raise
        return replay, False


def _replay(*, labeler, idempotency_key: str, item_id: int) -> Annotation | None:
    if not idempotency_key:
        return None
    replay = Annotation.objects.filter(labeler=labeler, idempotency_key=idempotency_key).first()
    if replay is not None and replay.item_id != item_id:
        raise Conflict("This Idempotency-Key was already used for another item.")
    return replay


@transaction.atomic
def _submit(
    *, item_id: int, labeler, value, skip_reason: str, comment: str, time_spent_ms: int, idempotency_key: str
) -> tuple[Annotation, bool]:
    now = timezone.now()
    locked = _lock_assignment(item_id=item_id, labeler=labeler)
    # After the lock: a request with the same key that held it first has committed by now.
    replay = _replay(labeler=labeler, idempotency_key=idempotency_key, item_id=item_id)
    if replay is not None:
        return replay, False
    if locked is None:
        _refuse_without_assignment(item_id=item_id, labeler=labeler)
    assignment = locked.assignment
    version_number, class_names = _published_version(locked.version_id)
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
        _retake_slot(locked)
    status = AssignmentStatus.SKIPPED if skip_reason else AssignmentStatus.SUBMITTED
    version = LabelSchemaVersion(
        id=locked.version_id, number=version_number, project_id=assignment.project_id
    )
    if current is None and connection.vendor == "postgresql":
        annotation = _first_answer_sql(
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
        )
        _after_answer(locked)
        return annotation, True
    if current is not None:
        current.is_current = False
        current.save(update_fields=["is_current"])
    annotation = Annotation.objects.create(
        assignment=assignment,
        item_id=item_id,
        labeler=labeler,
        schema_version=LabelSchemaVersion(
            id=locked.version_id, number=version_number, project_id=assignment.project_id
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
    _after_answer(locked)
    return annotation, True


def _after_answer(locked: _Locked) -> None:
    """Adaptive overlap: the item's target follows its answers (bounded work: this item only)."""
    assignment = locked.assignment
    if assignment.project.is_adaptive and not locked.item_is_gold:
        item_target_decide(
            project=assignment.project, item_id=assignment.item_id, version_id=locked.version_id
        )
