"""Writing imported labels: classes matched, labelers created, assignments and annotations in bulk."""

import re
from collections.abc import Iterable, Iterator

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import F
from django.db.models.functions import Greatest

from core.errors import Invalid
from labeling.answers import answer_validate
from labeling.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    Item,
    LabelKind,
    Project,
    ProjectMembership,
    Role,
)
from labeling.models.projects import LABELING_ROLES
from labeling.services.annotation_import.reading import MAX_REPORTED, LabelRow, _Report

User = get_user_model()
CHUNK = 5_000
_USERNAME = re.compile(r"[^\w.@+-]")


class _Classes:
    """Exact class names, or a unique case-insensitive match (reported as mapped)."""

    def __init__(self, names: Iterable[str], report: _Report):
        self.names = set(names)
        folded: dict[str, list[str]] = {}
        for name in self.names:
            folded.setdefault(name.casefold(), []).append(name)
        self.folded = {k: v[0] for k, v in folded.items() if len(v) == 1}
        self.report = report

    def _one(self, name):
        if not isinstance(name, str) or name in self.names:
            return name
        mapped = self.folded.get(name.casefold())
        if mapped is None:
            return name
        self.report.classes_mapped[name] = mapped
        return mapped

    def map(self, label_kind: str, value):
        if label_kind in (LabelKind.CLASSES, LabelKind.RATING):
            return self._one(value)
        if label_kind == LabelKind.MULTI_CLASSES and isinstance(value, list):
            return [self._one(v) for v in value]
        if label_kind == LabelKind.BOXES and isinstance(value, list):
            return [{**b, "class": self._one(b.get("class"))} if isinstance(b, dict) else b for b in value]
        return value

    def unknown(self, label_kind: str, value) -> list[str]:
        if label_kind in (LabelKind.CLASSES, LabelKind.RATING):
            names = [value]
        elif label_kind == LabelKind.MULTI_CLASSES and isinstance(value, list):
            names = value
        elif label_kind == LabelKind.BOXES and isinstance(value, list):
            names = [b.get("class") for b in value if isinstance(b, dict)]
        else:
            return []
        return [str(n) for n in names if isinstance(n, str | int) and str(n) not in self.names]


class _Labelers:
    """Labeler names → users. A name that is the username of a member with a labeling role is
    that member; any other name is an import-only labeler of this project: an inactive row
    under ``import:<project id>:<name>``, a name no account can have (usernames allow no
    colon) and that can never sign in. So an import never attaches answers to a real account
    outside the project, never takes a username, and answers the same whether or not an
    account with that name exists."""

    def __init__(self, project: Project, report: _Report):
        self.project, self.report = project, report
        self.users: dict[str, int] = {}

    def pseudonym(self, name: str) -> str:
        return f"import:{self.project.id}:{_USERNAME.sub('_', name)}"[:150]

    def resolve(self, names: set[str]) -> None:
        wanted = names - set(self.users)
        if not wanted:
            return
        members = dict(
            ProjectMembership.objects.filter(
                project=self.project, user__username__in=wanted, role__in=LABELING_ROLES
            ).values_list("user__username", "user_id")
        )
        self.users.update(members)
        self.report.labelers_members.update(members)
        others = {name: self.pseudonym(name) for name in wanted - set(members)}
        if not others:
            return
        found = dict(User.objects.filter(username__in=others.values()).values_list("username", "id"))
        missing = sorted(set(others.values()) - set(found))
        if missing:
            unusable = make_password(None)  # no password can ever match: they never sign in
            User.objects.bulk_create(
                [User(username=u, is_active=False, password=unusable) for u in missing], batch_size=1000
            )
            found.update(User.objects.filter(username__in=missing).values_list("username", "id"))
        already = set(
            ProjectMembership.objects.filter(project=self.project, user_id__in=found.values()).values_list(
                "user_id", flat=True
            )
        )
        ProjectMembership.objects.bulk_create(
            [
                ProjectMembership(project=self.project, user_id=user_id, role=Role.LABELER)
                for user_id in found.values()
                if user_id not in already
            ],
            batch_size=1000,
        )
        for name, pseudonym in others.items():
            self.users[name] = found[pseudonym]
        self.report.labelers_import_only.update(others)

    def id_of(self, name: str) -> int:
        return self.users[name]


def _chunks(rows: Iterator[LabelRow]) -> Iterator[list[LabelRow]]:
    chunk: list[LabelRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _write_chunk(project, version, chunk, classes, labelers, report, seen, per_item) -> None:
    ids = {r.external_id for r in chunk if r.external_id}
    items = dict(Item.objects.filter(project=project, external_id__in=ids).values_list("external_id", "id"))
    valid: list[tuple[LabelRow, int, object]] = []
    for row in chunk:
        report.rows += 1
        if not row.external_id:
            report.error(row.line, "missing external_id")
            continue
        if not row.labeler:
            report.error(row.line, "missing labeler")
            continue
        item_id = items.get(row.external_id)
        if item_id is None:
            report.unknown_external_id_count += 1
            if len(report.unknown_external_ids) < MAX_REPORTED:
                report.unknown_external_ids.append({"line": row.line, "external_id": row.external_id})
            continue
        value = classes.map(project.label_kind, row.value)
        unknown = classes.unknown(project.label_kind, value)
        if unknown:
            for name in unknown:
                report.unknown_classes[name[:100]] = report.unknown_classes.get(name[:100], 0) + 1
            continue
        try:
            value = answer_validate(label_kind=project.label_kind, class_names=classes.names, value=value)
        except Invalid as exc:
            report.error(row.line, exc.message)
            continue
        valid.append((row, item_id, value))
    if report.error_count or report.unknown_classes:
        return  # the file fails: keep reading to report everything, write nothing more
    labelers.resolve({row.labeler for row, _, _ in valid})
    pairs = [(item_id, labelers.id_of(row.labeler)) for row, item_id, _ in valid]
    existing = set(
        Assignment.objects.filter(
            item_id__in={p[0] for p in pairs}, labeler_id__in={p[1] for p in pairs}
        ).values_list("item_id", "labeler_id")
    )
    fresh = []
    for (_, _, value), pair in zip(valid, pairs, strict=True):
        if pair in existing:
            report.skipped_existing += 1
        elif pair in seen:
            report.duplicates_in_file += 1
        else:
            seen.add(pair)
            fresh.append((pair, value))
    assignments = Assignment.objects.bulk_create(
        [
            Assignment(
                project=project, item_id=item_id, labeler_id=labeler_id, status=AssignmentStatus.SUBMITTED
            )
            for (item_id, labeler_id), _ in fresh
        ],
        batch_size=2000,
    )
    Annotation.objects.bulk_create(
        [
            Annotation(
                assignment=assignment,
                item_id=assignment.item_id,
                labeler_id=assignment.labeler_id,
                schema_version=version,
                value=value,
                source="import",
            )
            for assignment, (_, value) in zip(assignments, fresh, strict=True)
        ],
        batch_size=2000,
    )
    report.created += len(fresh)
    for (item_id, _), _ in fresh:
        per_item[item_id] = per_item.get(item_id, 0) + 1


def _hold_slots(project: Project, per_item: dict[int, int]) -> None:
    """Imported answers hold overlap slots (gold items have none); k grows where needed."""
    by_count: dict[int, list[int]] = {}
    for item_id, n in per_item.items():
        by_count.setdefault(n, []).append(item_id)
    for n, item_ids in by_count.items():  # one UPDATE per distinct count, not per item
        for start in range(0, len(item_ids), 10_000):
            Item.objects.filter(pk__in=item_ids[start : start + 10_000], is_gold=False).update(
                target=Greatest(F("target"), F("slots_taken") + n), slots_taken=F("slots_taken") + n
            )
