"""People page: add by username or e-mail, change roles, remove, staff create accounts, a pipeline
account's token shown once; every refusal said, nothing half-written."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from core.audit.models import AuditEvent
from labeling.models import Assignment, AssignmentStatus, ProjectMembership, Role
from labeling.services.assignments import assignment_reserve_next
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def _messages(client, project):
    return client.get(f"/projects/{project.id}/people/").content.decode()


@pytest.mark.parametrize("role", [Role.LABELER, Role.REVIEWER, Role.PIPELINE])
def test_only_managers_use_the_people_page(client, project, role):
    member = MembershipFactory(project=project, role=role).user
    other = UserFactory(username="newcomer")
    client.force_login(member)
    assert client.get(f"/projects/{project.id}/people/").status_code == 403
    assert (
        client.post(f"/projects/{project.id}/people/add/", {"who": "newcomer", "role": "manager"}).status_code
        == 403
    )
    assert (
        client.post(f"/projects/{project.id}/people/remove/", {"username": member.username}).status_code
        == 403
    )
    assert not ProjectMembership.objects.filter(user=other).exists()


def test_outsider_gets_404(client, project, user):
    client.force_login(user)
    assert client.get(f"/projects/{project.id}/people/").status_code == 404


def test_manager_adds_by_username_and_by_email_and_changes_a_role(client, project, staff):
    UserFactory(username="ana", email="Ana@Example.org")
    UserFactory(username="bo")
    client.force_login(staff)
    client.post(f"/projects/{project.id}/people/add/", {"who": "ana@example.org", "role": "labeler"})
    client.post(f"/projects/{project.id}/people/add/", {"who": "bo", "role": "reviewer"})
    roles = dict(project.memberships.values_list("user__username", "role"))
    assert roles["ana"] == "labeler" and roles["bo"] == "reviewer"
    client.post(f"/projects/{project.id}/people/role/", {"username": "ana", "role": "reviewer"})
    assert project.memberships.get(user__username="ana").role == "reviewer"
    assert "Ana@Example.org" in _messages(client, project)
    assert AuditEvent.objects.filter(project=project, action="member.add").count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"who": "ghost", "role": "labeler"}, "No active user with the username or e-mail"),
        ({"who": "", "role": "labeler"}, "Give a username or e-mail and a role."),
        ({"who": "ana", "role": "boss"}, "Give a username or e-mail and a role."),
    ],
)
def test_bad_additions_are_refused_with_a_reason(client, project, staff, data, message):
    UserFactory(username="ana")
    client.force_login(staff)
    response = client.post(f"/projects/{project.id}/people/add/", data, follow=True)
    assert message in response.content.decode()
    assert project.memberships.count() == 1


def test_last_manager_cannot_be_removed_or_demoted(client, project, staff):
    client.force_login(staff)
    page = client.post(f"/projects/{project.id}/people/remove/", {"username": staff.username}, follow=True)
    assert "at least one manager" in page.content.decode()
    client.post(f"/projects/{project.id}/people/role/", {"username": staff.username, "role": "labeler"})
    assert project.memberships.get(user=staff).role == Role.MANAGER


def test_removing_a_labeler_returns_their_reservation_to_the_pool(client, project, staff):
    item = ItemFactory(project=project)
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    assignment_reserve_next(project=project, labeler=labeler)
    item.refresh_from_db()
    assert item.slots_taken == 1
    client.force_login(staff)
    client.post(f"/projects/{project.id}/people/remove/", {"username": labeler.username})
    item.refresh_from_db()
    assert item.slots_taken == 0
    assert not project.memberships.filter(user=labeler).exists()
    assert Assignment.objects.get(labeler=labeler).status == AssignmentStatus.EXPIRED


def test_staff_create_a_labeler_with_a_password_shown_once(client, project, staff):
    client.force_login(staff)
    data = {
        "new-username": "lee",
        "new-email": "lee@example.org",
        "new-role": "labeler",
        "new-how": "password",
    }
    page = client.post(f"/projects/{project.id}/people/create/", data, follow=True).content.decode()
    lee = User.objects.get(username="lee")
    password = page.split('id="secret-password">')[1].split("<")[0]
    assert lee.check_password(password)
    assert project.memberships.get(user=lee).role == Role.LABELER
    assert password not in _messages(client, project)  # shown once


def test_invite_link_sets_a_password_once(client, project, staff):
    client.force_login(staff)
    data = {"new-username": "ivy", "new-email": "", "new-role": "reviewer", "new-how": "invite"}
    page = client.post(f"/projects/{project.id}/people/create/", data, follow=True).content.decode()
    link = page.split('id="secret-invite">')[1].split("<")[0]
    client.logout()
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-long-pass-phrase", "new_password2": "a-long-pass-phrase"},
    )
    assert done.status_code == 302
    assert User.objects.get(username="ivy").check_password("a-long-pass-phrase")
    assert "new_password1" not in client.get(link, follow=True).content.decode()  # used up


def test_non_staff_manager_cannot_create_accounts(client, project):
    manager = MembershipFactory(project=project, role=Role.MANAGER).user
    client.force_login(manager)
    data = {"new-username": "x1", "new-email": "", "new-role": "labeler", "new-how": "password"}
    page = client.post(f"/projects/{project.id}/people/create/", data, follow=True).content.decode()
    assert "Only administrators can create users." in page
    assert not User.objects.filter(username="x1").exists()


def test_pipeline_account_token_is_shown_once_and_works(client, project, staff):
    client.force_login(staff)
    data = {"new-username": "etl", "new-email": "", "new-role": "pipeline", "new-how": "password"}
    page = client.post(f"/projects/{project.id}/people/create/", data, follow=True).content.decode()
    token = page.split('id="secret-token">')[1].split("<")[0]
    assert Token.objects.get(user__username="etl").key == token
    assert not User.objects.get(username="etl").has_usable_password()
    page = client.post(
        f"/projects/{project.id}/people/token/", {"username": "etl"}, follow=True
    ).content.decode()
    new = page.split('id="secret-token">')[1].split("<")[0]
    assert new != token and Token.objects.get(user__username="etl").key == new


def test_manager_cannot_take_the_token_of_a_person_or_of_another_projects_pipeline(client, project, staff):
    person = MembershipFactory(project=project, role=Role.PIPELINE).user  # has a password
    shared = UserFactory(username="shared-etl")
    shared.set_unusable_password()
    shared.save()
    MembershipFactory(project=project, role=Role.PIPELINE, user=shared)
    MembershipFactory(project=ProjectFactory(), role=Role.PIPELINE, user=shared)
    client.force_login(staff)
    for username in (person.username, shared.username):
        page = client.post(f"/projects/{project.id}/people/token/", {"username": username}, follow=True)
        assert "make their own token" in page.content.decode()
    assert not Token.objects.filter(user__in=[person, shared]).exists()
