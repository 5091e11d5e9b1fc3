import pytest

from labeling.models import LabelSchemaVersion, Project, ProjectMembership, Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory
from tests.helpers import client_for, error_code

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "name": "Phone defects",
    "data_type": "image",
    "label_kind": "classes",
    "classes": ["deep scratch", "shallow scratch", "dent", "none"],
    "overlap": 3,
    "instructions": "Mark the **worst** defect.",
}


def test_staff_creates_project_with_published_schema_v1_and_becomes_manager(staff):
    response = client_for(staff).post("/api/projects/", PAYLOAD, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["schema_version"] == 1
    assert [c["name"] for c in body["classes"]] == PAYLOAD["classes"]
    assert body["role"] == "manager"
    assert body["item_count"] == 0 and body["annotation_count"] == 0
    project = Project.objects.get(pk=body["id"])
    version = LabelSchemaVersion.objects.get(project=project)
    assert version.is_published and version.instructions == PAYLOAD["instructions"]
    assert ProjectMembership.objects.get(project=project, user=staff).role == Role.MANAGER


def test_user_without_permission_cannot_create_project(user):
    response = client_for(user).post("/api/projects/", PAYLOAD, format="json")
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"data_type": "video"}, "data_type"),
        ({"label_kind": "boxes", "data_type": "record"}, "label_kind"),
        ({"classes": ["a", "a"]}, "classes"),
        ({"classes": ["only one"]}, "classes"),
        ({"overlap": 0}, "overlap"),
        ({"name": ""}, "name"),
        ({"is_staff": True}, "is_staff"),
    ],
)
def test_invalid_project_payload_gets_400_with_field_message(staff, change, field):
    response = client_for(staff).post("/api/projects/", {**PAYLOAD, **change}, format="json")
    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert field in response.json()["error"]["fields"]
    assert not Project.objects.exists()


def test_malformed_json_gets_400_not_500(staff):
    response = client_for(staff).post("/api/projects/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_code(response) == "malformed_request"


def test_anonymous_gets_401_in_error_shape(api_client):
    response = api_client.get("/api/projects/")
    assert response.status_code == 401
    assert error_code(response) == "not_authenticated"


def test_list_shows_only_my_projects_with_counts_in_constant_queries(django_assert_num_queries, staff):
    mine = [ProjectFactory(created_by=staff, name=f"p{i}") for i in range(3)]
    ProjectFactory(name="someone else's")
    for p in mine:
        ItemFactory.create_batch(2, project=p)
    client = client_for(staff)
    with django_assert_num_queries(3):  # token+user, count, one page with every count as a subquery
        response = client.get("/api/projects/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert {p["name"] for p in body["results"]} == {"p0", "p1", "p2"}
    assert all(p["item_count"] == 2 for p in body["results"])


def test_other_projects_are_404_not_403(user, project):
    response = client_for(user).get(f"/api/projects/{project.id}/")
    assert response.status_code == 404
    missing = client_for(user).get("/api/projects/999999/")
    assert missing.status_code == 404
    assert response.json() == missing.json()  # no existence oracle


def test_labeler_sees_project_but_not_everyone_s_annotation_count(project):
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    body = client_for(labeler).get(f"/api/projects/{project.id}/").json()
    assert body["role"] == "labeler"
    assert body["annotation_count"] is None
    assert body["my_annotation_count"] == 0


def test_manager_adds_member_and_changes_role(project, staff):
    newcomer = UserFactory(username="ana")
    client = client_for(staff)
    added = client.post(f"/api/projects/{project.id}/members/", {"username": "ana", "role": "labeler"})
    assert added.status_code == 201
    changed = client.post(f"/api/projects/{project.id}/members/", {"username": "ana", "role": "reviewer"})
    assert changed.status_code == 200
    assert ProjectMembership.objects.get(project=project, user=newcomer).role == Role.REVIEWER


@pytest.mark.parametrize("role", [Role.LABELER, Role.REVIEWER])
def test_non_manager_cannot_add_members_or_escalate_own_role(project, role):
    member = MembershipFactory(project=project, role=role).user
    client = client_for(member)
    response = client.post(
        f"/api/projects/{project.id}/members/", {"username": member.username, "role": "manager"}
    )
    assert response.status_code == 403
    assert ProjectMembership.objects.get(project=project, user=member).role == role


def test_member_payload_refuses_unknown_fields(project, staff):
    UserFactory(username="bo")
    response = client_for(staff).post(
        f"/api/projects/{project.id}/members/",
        {"username": "bo", "role": "labeler", "is_staff": True},
        format="json",
    )
    assert response.status_code == 400
    assert "is_staff" in response.json()["error"]["fields"]


def test_last_manager_cannot_be_demoted(project, staff):
    response = client_for(staff).post(
        f"/api/projects/{project.id}/members/", {"username": staff.username, "role": "labeler"}
    )
    assert response.status_code == 409
    assert ProjectMembership.objects.get(project=project, user=staff).role == Role.MANAGER


def test_unknown_user_gets_400(project, staff):
    response = client_for(staff).post(
        f"/api/projects/{project.id}/members/", {"username": "ghost", "role": "labeler"}
    )
    assert response.status_code == 400
    assert "username" in response.json()["error"]["fields"]


def test_non_member_cannot_add_members_and_gets_404(project, user):
    response = client_for(user).post(
        f"/api/projects/{project.id}/members/", {"username": user.username, "role": "manager"}
    )
    assert response.status_code == 404
    assert not ProjectMembership.objects.filter(user=user).exists()


def test_manager_raises_k_and_it_reaches_items_at_the_old_k(project, staff):
    default = ItemFactory(project=project)
    custom = ItemFactory(project=project, target=7)
    response = client_for(staff).patch(
        f"/api/projects/{project.id}/", {"overlap": 5, "auto_run_every": 100}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["overlap"] == 5 and response.json()["auto_run_every"] == 100
    default.refresh_from_db()
    custom.refresh_from_db()
    assert (default.target, custom.target) == (5, 7)


@pytest.mark.parametrize("role", [Role.LABELER, Role.REVIEWER])
def test_only_managers_change_settings(project, role):
    member = MembershipFactory(project=project, role=role).user
    response = client_for(member).patch(f"/api/projects/{project.id}/", {"overlap": 9}, format="json")
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.overlap == 3
