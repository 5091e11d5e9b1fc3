"""New project and settings pages: permissions per role, bad input says what is wrong and writes
nothing, class details publish a new schema version after a preview."""

import pytest

from consistency.models import SchemaChange
from labeling.models import LabelSchemaVersion, Project, Role
from labeling.views.workspace import class_keys
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CLASSES = {
    "class_name": ["scratch", "dent", ""],
    "class_description": ["a line", "a hollow", ""],
    "class_color": ["#ff0000", "#00ff00", "#000000"],
    "class_hotkey": ["s2", "d", ""],
}


def _new(client, **overrides):
    data = {
        "name": "Phones",
        "data_type": "image",
        "label_kind": "boxes",
        "overlap": "3",
        "consensus_method": "majority",
        "instructions": "**Look** closely",
        **CLASSES,
        **overrides,
    }
    return client.post("/projects/new/", data)


def test_staff_creates_a_project_with_class_details(client, staff):
    client.force_login(staff)
    response = _new(client, class_hotkey=["x", "d", ""])
    project = Project.objects.get(name="Phones")
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.id}/settings/"
    classes = list(project.schema_version.classes.values_list("name", "description", "color", "hotkey"))
    assert classes == [("scratch", "a line", "#ff0000", "x"), ("dent", "a hollow", "#00ff00", "d")]
    assert project.memberships.get().role == Role.MANAGER


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "Hotkey &#x27;s2&#x27; is not free"),  # two letters
        ({"class_hotkey": ["s", "d", ""]}, "Hotkey &#x27;s&#x27; is not free"),  # s skips
        ({"class_hotkey": ["d", "d", ""]}, "given to two classes"),
        (
            {"label_kind": "transcription", "class_hotkey": ["", "", ""]},
            "transcription labels do not fit image",
        ),
        ({"overlap": "0"}, "greater than or equal to 1"),
        ({"class_color": ["red", "#00ff00", ""], "class_hotkey": ["", "", ""]}, "not a hex colour"),
    ],
)
def test_bad_project_input_says_what_is_wrong_and_creates_nothing(client, staff, overrides, message):
    client.force_login(staff)
    response = _new(client, **overrides)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Project.objects.exists()


def test_users_without_the_right_cannot_create_projects(client, user):
    client.force_login(user)
    assert client.get("/projects/new/").status_code == 403
    assert _new(client, class_hotkey=["", "", ""]).status_code == 403
    assert not Project.objects.exists()
    assert "New project" not in client.get("/").content.decode()


@pytest.mark.parametrize("role", [Role.LABELER, Role.REVIEWER, Role.PIPELINE])
def test_only_managers_open_or_change_settings(client, project, role):
    member = MembershipFactory(project=project, role=role).user
    client.force_login(member)
    assert client.get(f"/projects/{project.id}/settings/").status_code == 403
    assert client.post(f"/projects/{project.id}/settings/", {"name": "x"}).status_code == 403
    assert client.post(f"/projects/{project.id}/settings/classes/", {}).status_code == 403


def test_outsiders_get_404_on_settings(client, project, user):
    client.force_login(user)
    assert client.get(f"/projects/{project.id}/settings/").status_code == 404


def _settings(project, **overrides):
    return {
        "name": project.name,
        "overlap": "4",
        "overlap_policy": "adaptive",
        "min_answers": "2",
        "max_answers": "6",
        "target_confidence": "0.95",
        "gold_rate": "0.1",
        "consensus_method": "dawid_skene",
        "lease_seconds": "300",
        "auto_run_every": "0",
        "agreement_drop": "0.1",
        "min_labeler_hlp": "0.5",
        "max_skip_rate": "0.3",
        **overrides,
    }


def test_manager_saves_settings_and_alarms(client, project, staff):
    client.force_login(staff)
    response = client.post(f"/projects/{project.id}/settings/", _settings(project))
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.overlap, project.overlap_policy, project.max_answers) == (4, "adaptive", 6)
    assert (project.gold_rate, project.consensus_method, project.lease_seconds) == (0.1, "dawid_skene", 300)
    assert project.alarms == {"agreement_drop": 0.1, "min_labeler_hlp": 0.5, "max_skip_rate": 0.3}
    html = client.get(f"/projects/{project.id}/settings/").content.decode()
    assert 'value="0.3"' in html and 'value="dawid_skene" selected' in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_answers": "1"}, "Between min_answers (2)"),
        ({"target_confidence": "1.5"}, "Between 0.5 and 1"),
        ({"max_skip_rate": "2"}, "less than or equal to 1"),
        ({"lease_seconds": "abc"}, "Enter a whole number"),
    ],
)
def test_bad_settings_say_what_is_wrong_and_change_nothing(client, project, staff, overrides, message):
    client.force_login(staff)
    response = client.post(f"/projects/{project.id}/settings/", _settings(project, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    project.refresh_from_db()
    assert (project.overlap, project.overlap_policy, project.alarms) == (3, "fixed", {})


def _rows(project, **changes):
    rows = {"class_name": [], "class_description": [], "class_color": [], "class_hotkey": []}
    for c in project.schema_version.classes.all():
        change = changes.get(c.name, {})
        for field in ("name", "description", "color", "hotkey"):
            rows[f"class_{field}"].append(change.get(field, getattr(c, field)))
    return rows


def test_class_details_are_previewed_then_published_as_a_new_version(client, project, staff):
    client.force_login(staff)
    url = f"/projects/{project.id}/settings/classes/"
    rows = _rows(project, dent={"description": "a hollow in the case", "hotkey": "d"})
    preview = client.post(url, rows)
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "What if: new details for dent" in html and "a hollow in the case" in html
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1
    applied = client.post(url, {**rows, "apply": "1", "note": "clearer"})
    assert applied.status_code == 302
    version = project.schema_version
    assert version.number == 2 and version.mapping == {}
    dent = version.classes.get(name="dent")
    assert (dent.description, dent.hotkey) == ("a hollow in the case", "d")
    assert SchemaChange.objects.get(project=project).op == "describe_classes"
    names = [c.name for c in version.classes.all()]
    keys = class_keys(names, {c.name: c.hotkey for c in version.classes.all()})
    assert keys == {"deep scratch": "1", "shallow scratch": "2", "dent": "d", "none": "3"}


def test_class_names_cannot_change_on_the_settings_page(client, project, staff):
    client.force_login(staff)
    rows = _rows(project, dent={"name": "hollow"})
    response = client.post(f"/projects/{project.id}/settings/classes/", {**rows, "apply": "1", "note": "x"})
    assert response.status_code == 302
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "Class names and order are changed by a schema change" in page


def test_applying_class_details_needs_a_note(client, project, staff):
    client.force_login(staff)
    rows = _rows(project, dent={"color": "#123456"})
    client.post(f"/projects/{project.id}/settings/classes/", {**rows, "apply": "1", "note": " "})
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1


def test_markdown_preview_is_sanitized(client, staff):
    client.force_login(staff)
    response = client.post("/projects/markdown-preview/", {"text": "**b** <script>x()</script>"})
    assert response.content.decode().startswith("<p><strong>b</strong>")
    assert "<script" not in response.content.decode()


def test_can_create_permission_shows_the_new_project_button(client):
    from django.contrib.auth.models import Permission

    creator = UserFactory()
    creator.user_permissions.add(Permission.objects.get(codename="add_project"))
    client.force_login(creator)
    assert "New project" in client.get("/").content.decode()
