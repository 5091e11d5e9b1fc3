"""Class details (description, colour, hotkey) change by publishing a new schema version.

A published version is immutable, so even a new description publishes a version, with an empty
mapping: every answer reads the same under it, which the preview says (agreement unchanged, no
answer read differently, nothing re-queued). Renames, merges and new classes are structural and
go through ``schema_changes`` with its what-if preview.
"""

from collections.abc import Mapping, Sequence

from django.contrib.auth.models import User
from django.db import transaction

from consistency.models import SchemaChange
from core.errors import Invalid
from labeling.models import LabelSchemaVersion, Project
from labeling.selectors.schema_versions import schema_version_current
from labeling.services.projects import class_hotkeys_check, class_spec
from labeling.services.schema_versions import schema_version_publish

OP = "describe_classes"
DETAILS = ("description", "color", "hotkey")


def class_details_plan(*, project: Project, rows: Sequence[Mapping]) -> list[dict]:
    """The changed details, one entry per changed class; 400 if ``rows`` are not the current
    classes in order (structural changes belong to schema changes)."""
    return _plan(project, rows)[1]


def _plan(project: Project, rows: Sequence[Mapping]) -> tuple[LabelSchemaVersion, list[dict]]:
    version = schema_version_current(project=project, with_classes=True)
    current = list(version.classes.all())
    specs = [class_spec(row, position=i) for i, row in enumerate(rows)]
    if [s["name"] for s in specs] != [c.name for c in current]:
        raise Invalid(
            "Class names and order are changed by a schema change (Definitions page: rename, merge, "
            "add a class); here only descriptions, colours and hotkeys.",
            fields={"classes": ["Names differ from the current schema."]},
        )
    class_hotkeys_check(specs)
    changes = []
    for spec, label_class in zip(specs, current, strict=True):
        diff = {f: [getattr(label_class, f), spec[f]] for f in DETAILS if getattr(label_class, f) != spec[f]}
        if diff:
            changes.append({"name": spec["name"], "changes": diff, "spec": spec})
    if not changes:
        raise Invalid("Nothing changed.", fields={"classes": ["No change."]})
    return version, changes


def class_details_change(
    *, project: Project, rows: Sequence[Mapping], note: str, actor: User, dry_run: bool
) -> dict:
    """Preview (``dry_run``) or publish a schema version with new class details."""
    base, changes = _plan(project, rows)
    summary = "new details for " + ", ".join(c["name"] for c in changes)
    preview = {"summary": summary, "changes": changes, "changed_answers": 0, "requeued_items": 0}
    if dry_run:
        return {"dry_run": True, **preview}
    note = (note or "").strip()
    if not note:
        raise Invalid("Say why (note) before changing the schema.", fields={"note": ["Required."]})
    by_name = {c["name"]: c["spec"] for c in changes}
    summaries = [{k: c[k] for k in ("name", "changes")} for c in changes]
    with transaction.atomic():
        current, version = schema_version_publish(
            project=project,
            classes=[
                {
                    "name": c.name,
                    "position": c.position,
                    **{f: by_name.get(c.name, {}).get(f, getattr(c, f)) for f in DETAILS},
                }
                for c in base.classes.all()
            ],
            mapping={},
            note=note,
            actor=actor,
            action=f"schema.{OP}",
            expected_parent_id=base.id,
            audit_after={"changes": summaries, "note": note},
        )
        unchanged = {"alpha": None, "alpha_ci": [None, None], "note": "answers read the same"}
        SchemaChange.objects.create(
            project=project,
            from_version=current,
            to_version=version,
            op=OP,
            params={"changes": summaries},
            note=note,
            before=unchanged,
            after=unchanged,
            created_by=actor,
        )
    return {"dry_run": False, "schema_version": version.number, **preview}
