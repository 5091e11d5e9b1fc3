import pytest

from consistency.models import AgreementRun, SchemaChange
from consistency.services.agreement_runs import agreement_run_compute
from core.audit.models import AuditEvent
from labeling.models import Annotation, LabelSchemaVersion, Role
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import MembershipFactory, ProjectFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def _change(client, project, body):
    return client.post(f"/api/projects/{project.id}/schema-changes/", body, format="json")


def test_merge_preview_then_apply_raises_agreement_without_rewriting_answers(
    project, staff, django_capture_on_commit_callbacks
):
    label(project, ANSWERS)
    client = client_for(staff)
    merge = {"op": "merge", "classes": ["deep scratch", "shallow scratch"], "into": "scratch"}
    preview = _change(client, project, {**merge, "dry_run": True}).json()
    assert preview["dry_run"] and preview["after"]["alpha"] > preview["before"]["alpha"]
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1
    note = "SMEs cannot tell depth"
    assert _change(client, project, {**merge, "dry_run": False, "keep_instructions": True}).status_code == 400
    # A merge changes what the classes mean: new instructions, or keeping them on purpose.
    refused = _change(client, project, {**merge, "dry_run": False, "note": note})
    assert refused.status_code == 400 and "instructions" in refused.json()["error"]["fields"]
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        applied = _change(
            client,
            project,
            {**merge, "dry_run": False, "note": note, "instructions": "**scratch**: any line."},
        )
    assert applied.status_code == 201, applied.json()
    assert applied.json()["schema_version"] == 2
    v2 = LabelSchemaVersion.objects.get(project=project, number=2)
    assert list(v2.classes.values_list("name", flat=True)) == ["scratch", "dent", "none"]
    assert v2.mapping == {"deep scratch": "scratch", "shallow scratch": "scratch"}
    assert v2.instructions == "**scratch**: any line."
    assert Annotation.objects.filter(value="deep scratch").exists()  # history untouched
    run = AgreementRun.objects.get(pk=applied.json()["agreement_run"])
    assert run.schema_version == v2 and run.headline_alpha == pytest.approx(
        applied.json()["after"]["alpha"], abs=1e-3
    )
    assert SchemaChange.objects.get().note == "SMEs cannot tell depth"
    assert AuditEvent.objects.filter(action="schema.merge").exists()
    history = client.get(f"/api/projects/{project.id}/schema-changes/").json()["history"]
    assert history[0]["to_version"] == 2


def test_suggestions_rank_the_confused_pair_first(project, staff):
    label(project, ANSWERS)
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    suggestions = client_for(staff).get(f"/api/projects/{project.id}/schema-changes/").json()["suggestions"]
    assert suggestions["merges"][0]["classes"] == ["deep scratch", "shallow scratch"]
    assert suggestions["merges"][0]["gain"] > 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"op": "merge", "classes": ["dent", "dent"], "into": "x"}, "classes"),
        ({"op": "merge", "classes": ["dent", "ghost"], "into": "x"}, "classes"),
        ({"op": "merge", "classes": ["dent", "none"], "into": "deep scratch"}, "into"),
        ({"op": "rename", "from": "dent", "to": "none"}, "to"),
        ({"op": "add_class", "name": ""}, "name"),
        ({"op": "split", "class": "dent", "into": ["a"]}, "into"),
        ({"op": "split", "class": "dent", "into": ["a", {"name": "b"}]}, "into"),
        ({"op": "split", "class": "dent", "into": [f"c{i}" for i in range(21)]}, "into"),
        ({"op": "split", "class": ["dent"], "into": ["a", "b"]}, "class"),
        ({"op": "split", "class": "dent", "into": ["a", "b"], "instructions": 7}, "instructions"),
        ({"op": "explode"}, "op"),
        ({"op": "standardize_transcripts", "rules": [{"pattern": "x"}]}, "op"),
    ],
)
def test_bad_changes_are_400_and_write_nothing(project, staff, body, field):
    response = _change(client_for(staff), project, {**body, "dry_run": False, "note": "n"})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1


def test_standardize_transcripts_previews_changes_and_refuses_what_re2_cannot_run(staff):
    project = ProjectFactory(created_by=staff, data_type="audio", label_kind="transcription", classes=[])
    label(
        project,
        [
            ["Umm nearest gas station", "Um nearest gas station", "um nearest gas station"],
            ["call mom", "call mom", "Call mom."],
        ],
    )
    client = client_for(staff)
    rule = {"pattern": r"\bumm\b", "replacement": "um", "regex": True}
    preview = _change(client, project, {"op": "standardize_transcripts", "rules": [rule]}).json()
    assert preview["changed_answers"] == 1 and preview["after"]["alpha"] >= preview["before"]["alpha"]
    for pattern in ["(", r"(um)\1", r"(?=um)u", r"(?<!x)um"]:
        rules = [rule, {"pattern": pattern, "regex": True}]
        bad = _change(client, project, {"op": "standardize_transcripts", "rules": rules})
        assert bad.status_code == 400, pattern
        assert bad.json()["error"]["message"].startswith("Rule 2: invalid regular expression")


def test_instructions_are_sanitized_when_shown(client, project, staff):
    _change(
        client_for(staff),
        project,
        {
            "op": "edit_instructions",
            "dry_run": False,
            "note": "clearer",
            "instructions": "See [this](javascript:alert(1)) <script>x()</script>",
        },
    )
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert "javascript:" not in html and "<script>x()" not in html


def test_labelers_and_reviewers_cannot_change_the_schema(project):
    for role in (Role.LABELER, Role.REVIEWER):
        member = MembershipFactory(project=project, role=role).user
        response = _change(client_for(member), project, {"op": "add_class", "name": "borderline"})
        assert response.status_code == 403


def test_class_hotkeys_survive_schema_changes(project, staff):
    """A schema change copies each class's colour and hotkey; the merged class takes the first
    merged class's, a renamed class keeps its own."""
    from labeling.models import LabelClass

    LabelClass.objects.filter(schema_version=project.schema_version, name="deep scratch").update(hotkey="q")
    LabelClass.objects.filter(schema_version=project.schema_version, name="dent").update(hotkey="w")
    client = client_for(staff)
    merge = {"op": "merge", "classes": ["deep scratch", "shallow scratch"], "into": "scratch"}
    merge_on = {**merge, "dry_run": False, "keep_instructions": True, "note": "depth is unclear"}
    applied = _change(client, project, merge_on)
    assert applied.status_code == 201, applied.json()
    rename = {"op": "rename", "from": "dent", "to": "dent or ding", "dry_run": False, "note": "clearer"}
    assert _change(client, project, rename).status_code == 201
    v3 = LabelSchemaVersion.objects.get(project=project, number=3)
    assert dict(v3.classes.values_list("name", "hotkey")) == {"scratch": "q", "dent or ding": "w", "none": ""}
