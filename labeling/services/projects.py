"""Writes on projects, members and users."""

import re
from collections.abc import Mapping, Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from core.audit.services import audit
from core.errors import Conflict, Invalid, PermissionDenied
from labeling.models import (
    ConsensusMethod,
    DataType,
    Item,
    LabelClass,
    LabelKind,
    LabelSchemaVersion,
    Project,
    ProjectMembership,
    Role,
)
from labeling.selectors.projects import ALARM_NAMES
from labeling.services.adaptive import POLICY_FIELDS, policy_apply, policy_snapshot, policy_validate

UserModel = get_user_model()  # the configured user model, for queries

# Which answer shapes make sense for which data.
ALLOWED_LABEL_KINDS = {
    DataType.AUDIO: {LabelKind.TRANSCRIPTION, LabelKind.CLASSES, LabelKind.MULTI_CLASSES, LabelKind.RATING},
    DataType.IMAGE: {LabelKind.CLASSES, LabelKind.MULTI_CLASSES, LabelKind.BOXES, LabelKind.RATING},
    DataType.RECORD: {LabelKind.CLASSES, LabelKind.MULTI_CLASSES, LabelKind.RATING},
}
MIN_CLASSES = {
    LabelKind.CLASSES: 2,
    LabelKind.RATING: 2,
    LabelKind.MULTI_CLASSES: 1,
    LabelKind.BOXES: 1,
    LabelKind.TRANSCRIPTION: 0,
}
PALETTE = ["#e03131", "#1971c2", "#2f9e44", "#f08c00", "#9c36b5", "#0c8599", "#e8590c", "#5c940d"]
MAX_OVERLAP = 50
COLOR = re.compile(r"#[0-9a-f]{6}")
# Single-letter shortcuts of the workspace itself; a class can't take one as its hotkey.
RESERVED_KEYS = frozenset("sctfu?+-=[]")


def user_can_create_projects(user: User) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.has_perm("labeling.add_project")))


def _validate_classes(label_kind: str, classes: Sequence[str | Mapping]) -> list[dict]:
    """Class specs from names or ``{name, description, color, hotkey}`` objects, checked."""
    specs = [class_spec(c, position=i) for i, c in enumerate(classes)]
    names = [spec["name"] for spec in specs]
    if any(not n for n in names):
        raise Invalid("Class names cannot be empty.", fields={"classes": ["Empty class name."]})
    if any(len(n) > 100 for n in names):
        raise Invalid("Class names are at most 100 characters.", fields={"classes": ["Name too long."]})
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise Invalid(
            f"Duplicate class names: {', '.join(duplicates)}.",
            fields={"classes": [f"Duplicate: {n}" for n in duplicates]},
        )
    minimum = MIN_CLASSES[LabelKind(label_kind)]
    if len(names) < minimum:
        raise Invalid(
            f"A {label_kind} project needs at least {minimum} classes.",
            fields={"classes": [f"At least {minimum} classes."]},
        )
    class_hotkeys_check(specs)
    return specs


def class_spec(raw: str | Mapping, *, position: int) -> dict:
    """One class as ``{name, description, color, hotkey}``; a bare name gets a palette colour."""
    if not isinstance(raw, Mapping):
        raw = {"name": raw}
    color = str(raw.get("color") or PALETTE[position % len(PALETTE)]).strip().lower()
    if not COLOR.fullmatch(color):
        raise Invalid(
            f"Colour {color!r} is not a hex colour like #1971c2.", fields={"classes": ["Bad colour."]}
        )
    return {
        "name": str(raw.get("name") or "").strip(),
        "description": str(raw.get("description") or "").strip()[:5000],
        "color": color,
        "hotkey": str(raw.get("hotkey") or "").strip().lower(),
    }


def class_hotkeys_check(specs: Sequence[Mapping]) -> None:
    """Hotkeys are one letter or digit, not a workspace shortcut, and distinct."""
    keys = [s["hotkey"] for s in specs if s["hotkey"]]
    bad = [k for k in keys if len(k) != 1 or not k.isalnum() or k in RESERVED_KEYS]
    if bad:
        raise Invalid(
            f"Hotkey {bad[0]!r} is not free: use one letter or digit other than "
            f"{', '.join(sorted(RESERVED_KEYS))}.",
            fields={"classes": [f"Bad hotkey: {bad[0]}"]},
        )
    taken = sorted({k for k in keys if keys.count(k) > 1})
    if taken:
        raise Invalid(
            f"Hotkey {taken[0]!r} is given to two classes.", fields={"classes": [f"Hotkey twice: {taken[0]}"]}
        )


@transaction.atomic
def project_create(
    *,
    created_by: User,
    name: str,
    data_type: str,
    label_kind: str,
    classes: Sequence[str | Mapping] = (),
    overlap: int = 3,
    instructions: str = "",
    consensus_method: str = ConsensusMethod.MAJORITY,
    **policy,
) -> Project:
    """Create a project with its first published schema version; the creator becomes its manager.

    ``policy``: overlap_policy, min_answers, max_answers, target_confidence (adaptive overlap).
    """
    if not user_can_create_projects(created_by):
        raise PermissionDenied("Only staff or users allowed to create projects can create one.")
    if label_kind not in ALLOWED_LABEL_KINDS[DataType(data_type)]:
        allowed = ", ".join(sorted(ALLOWED_LABEL_KINDS[DataType(data_type)]))
        raise Invalid(
            f"{label_kind} labels do not fit {data_type} items (allowed: {allowed}).",
            fields={"label_kind": [f"Allowed for {data_type}: {allowed}."]},
        )
    if not 1 <= overlap <= MAX_OVERLAP:
        raise Invalid(f"overlap must be between 1 and {MAX_OVERLAP}.", fields={"overlap": ["Out of range."]})
    specs = _validate_classes(label_kind, classes)
    unknown = set(policy) - set(POLICY_FIELDS)
    if unknown:
        raise TypeError(f"unknown project fields: {sorted(unknown)}")
    project = Project(
        name=name.strip(),
        data_type=data_type,
        label_kind=label_kind,
        overlap=overlap,
        consensus_method=consensus_method,
        created_by=created_by,
    )
    policy_validate(project=project, changes=policy)
    for field, value in policy.items():
        setattr(project, field, value)
    project.save()
    ProjectMembership.objects.create(project=project, user=created_by, role=Role.MANAGER)
    version = LabelSchemaVersion.objects.create(
        project=project,
        number=1,
        instructions=instructions,
        note="Initial schema.",
        created_by=created_by,
        published_at=timezone.now(),
    )
    LabelClass.objects.bulk_create(
        LabelClass(schema_version=version, position=i, **spec) for i, spec in enumerate(specs)
    )
    return project


def _manager_count(project: Project) -> int:
    return project.memberships.filter(role=Role.MANAGER).count()


@transaction.atomic
def membership_set(*, project: Project, acting_user: User, username: str, role: str) -> tuple:
    """Add a user to the project with a role, or change their role. Managers only.

    Returns ``(membership, created)``.
    """
    acting = ProjectMembership.objects.filter(project=project, user=acting_user).first()
    if acting is None or acting.role != Role.MANAGER:
        raise PermissionDenied("Only the project's managers can add members or change roles.")
    user = UserModel.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise Invalid(f"No active user named {username!r}.", fields={"username": ["Unknown user."]})
    # Lock the project's memberships so two managers can't demote each other to zero managers.
    list(ProjectMembership.objects.select_for_update().filter(project=project))
    membership = ProjectMembership.objects.filter(project=project, user=user).first()
    if membership is None:
        try:
            with transaction.atomic():
                membership = ProjectMembership.objects.create(project=project, user=user, role=role)
                audit(
                    project=project,
                    actor=acting_user,
                    action="member.add",
                    target=username,
                    after={"role": role},
                )
                return membership, True
        except IntegrityError as exc:  # a concurrent request added them first
            raise Conflict(f"{username} was just added by someone else; retry to change the role.") from exc
    if membership.role == Role.MANAGER and role != Role.MANAGER and _manager_count(project) == 1:
        raise Conflict("A project needs at least one manager; add another manager first.")
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit(
        project=project,
        actor=acting_user,
        action="member.role",
        target=username,
        before={"role": before},
        after={"role": role},
    )
    return membership, False


@transaction.atomic
def project_update(*, project: Project, acting_user: User, **changes) -> Project:
    """Managers change settings. A new overlap k applies to every item still at the old k
    (items whose k was set by hand keep theirs), never below the answers already taken. A change
    of the overlap policy applies to open items only and is audited (``services.adaptive``)."""
    membership = ProjectMembership.objects.filter(project=project, user=acting_user).first()
    if membership is None or membership.role != Role.MANAGER:
        raise PermissionDenied("Only the project's managers can change its settings.")
    if any(field in changes for field in POLICY_FIELDS):
        policy_validate(project=project, changes=changes)
    if "alarms" in changes:
        changes["alarms"] = alarms_validate(changes["alarms"])
    # Lock the row: two managers changing the policy at once apply one after the other.
    project = Project.objects.select_for_update().get(pk=project.pk)
    old_overlap = project.overlap
    before = policy_snapshot(project)
    for field, value in changes.items():
        setattr(project, field, value)
    project.full_clean(exclude=["created_by"])
    project.save(update_fields=list(changes))
    stays_fixed = before["overlap_policy"] == project.overlap_policy and not project.is_adaptive
    if stays_fixed and "overlap" in changes and changes["overlap"] != old_overlap:
        Item.objects.filter(project=project, target=old_overlap).update(
            target=Greatest(F("slots_taken"), changes["overlap"])
        )
    policy_apply(project=project, before=before, acting_user=acting_user)
    return project


def alarms_validate(alarms: Mapping) -> dict:
    """Alarm thresholds: known names, each a number from 0 to 1."""
    unknown = sorted(set(alarms) - set(ALARM_NAMES))
    if unknown:
        raise Invalid(f"Unknown alarm(s): {', '.join(unknown)}.", fields={"alarms": unknown})
    clean = {}
    for name, value in alarms.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise Invalid(f"Alarm {name} must be a number from 0 to 1.", fields={name: ["From 0 to 1."]})
        clean[name] = float(value)
    return clean
