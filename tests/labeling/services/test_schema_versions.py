"""The one writer of schema versions and the one reader of the current version."""

import pytest

from core.audit.models import AuditEvent
from core.errors import Conflict
from labeling.models import LabelSchemaVersion
from labeling.selectors.schema_versions import schema_version_current, schema_version_latest
from labeling.services.schema_versions import schema_version_publish

pytestmark = pytest.mark.django_db


def _rows(version):
    return list(version.classes.values_list("name", "color", "hotkey", "position"))


def test_publish_writes_the_next_version_with_its_classes_mapping_and_audit(project, staff):
    v1 = project.schema_version
    parent, v2 = schema_version_publish(
        project=project,
        classes=[
            {"name": "scratch", "color": "#ff0000", "hotkey": "s", "description": "any line"},
            {"name": "dent"},
        ],
        mapping={"deep scratch": "scratch", "shallow scratch": "scratch", "none": None},
        note="depth is not visible",
        actor=staff,
        action="schema.test",
        audit_after={"note": "depth is not visible"},
    )
    assert parent == v1 and (v2.number, v2.parent_id, v2.is_published) == (2, v1.id, True)
    assert _rows(v2) == [("scratch", "#ff0000", "s", 0), ("dent", "#868e96", "", 1)]
    assert v2.mapping == {"deep scratch": "scratch", "shallow scratch": "scratch", "none": None}
    assert v2.instructions == v1.instructions  # None keeps the parent's
    event = AuditEvent.objects.get(action="schema.test")
    assert event.target == "v1 → v2"
    assert event.before == {"classes": ["deep scratch", "shallow scratch", "dent", "none"]}
    assert schema_version_latest(project=project) == v2 == project.schema_version


def test_a_plan_made_against_an_older_version_is_refused_and_writes_nothing(project, staff):
    v1 = project.schema_version
    schema_version_publish(
        project=project, classes=[{"name": "a"}, {"name": "b"}], mapping={}, note="x", actor=staff, action="t"
    )
    with pytest.raises(Conflict) as refused:
        schema_version_publish(
            project=project,
            classes=[{"name": "c"}],
            mapping={},
            note="stale",
            actor=staff,
            action="t",
            expected_parent_id=v1.id,
        )
    assert refused.value.status_code == 409 and "v2" in refused.value.message
    assert LabelSchemaVersion.objects.filter(project=project).count() == 2
    assert AuditEvent.objects.filter(project=project, action="t").count() == 1


def test_latest_ignores_a_newer_unpublished_draft_and_prefetches_classes(project, django_assert_num_queries):
    v1 = project.schema_version
    LabelSchemaVersion.objects.create(project=project, number=2, parent=v1)  # a draft
    with django_assert_num_queries(2):
        latest = schema_version_latest(project=project.id, with_classes=True)
        names = [c.name for c in latest.classes.all()]
    assert latest == v1 and names == ["deep scratch", "shallow scratch", "dent", "none"]


def test_current_is_latest_and_refuses_a_project_with_no_published_one(project, django_assert_num_queries):
    v1 = project.schema_version
    with django_assert_num_queries(1):
        assert schema_version_current(project=project) == v1
    LabelSchemaVersion.objects.filter(project=project).update(published_at=None)
    with pytest.raises(LabelSchemaVersion.DoesNotExist, match=f"Project {project.id} has no published"):
        schema_version_current(project=project.id)
