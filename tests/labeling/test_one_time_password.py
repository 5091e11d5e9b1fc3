"""A one-time password (staff created the account on the People page) must be changed at first
login: pages lead to the password change, the API with a session answers 403, tokens pass."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token

from core.accounts.models import PasswordChangeRequired
from labeling.models import Assignment
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def _create(client, project, staff, username: str, role: str = "labeler", how: str = "password") -> str:
    client.force_login(staff)
    data = {"new-username": username, "new-email": "", "new-role": role, "new-how": how}
    page = client.post(f"/projects/{project.id}/people/create/", data, follow=True).content.decode()
    secret = (
        "secret-token" if role == "pipeline" else "secret-password" if how == "password" else "secret-invite"
    )
    return page.split(f'id="{secret}">')[1].split("<")[0]


def _login(username: str, password: str) -> tuple[Client, object]:
    client = Client()
    response = client.post("/login/", {"username": username, "password": password})
    return client, response


def _change(client, old: str, new: str):
    return client.post("/password-change/", {"old_password": old, "new_password1": new, "new_password2": new})


def test_first_login_leads_to_the_password_change_until_it_is_done(client, project, staff):
    ItemFactory(project=project)
    one_time = _create(client, project, staff, "lee")
    lee = User.objects.get(username="lee")
    assert PasswordChangeRequired.objects.get(user=lee).set_by == staff
    lee_client, login = _login("lee", one_time)
    assert login.status_code == 302
    for path in ("/", f"/projects/{project.id}/", f"/projects/{project.id}/label/", "/account/"):
        response = lee_client.get(path)
        assert response.status_code == 302 and response["Location"] == "/password-change/", path
    page = lee_client.get("/password-change/").content.decode()
    assert 'id="password-required"' in page and "one-time password" in page

    # The API with this session: a clear 403, nothing done (no item reserved).
    for response in (
        lee_client.get(f"/api/projects/{project.id}/next/"),
        lee_client.get("/api/me/"),
        lee_client.get("/api/me/", HTTP_AUTHORIZATION="Basic bGVlOng="),  # not a way around it
    ):
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "password_change_required" and "/password-change/" in error["message"]
    assert not Assignment.objects.filter(labeler=lee).exists()
    # A token header is token auth only: a bogus one is refused, never read as the session.
    assert lee_client.get("/api/me/", HTTP_AUTHORIZATION="Token bogus").status_code == 401

    # Keeping the one-time password is not a change.
    same = _change(lee_client, one_time, one_time)
    assert same.status_code == 200 and "not the current one" in same.content.decode()
    assert PasswordChangeRequired.objects.filter(user=lee).exists()
    assert lee_client.get(f"/projects/{project.id}/").status_code == 302

    done = _change(lee_client, one_time, "lee-own-pass-phrase")
    assert done.status_code == 302 and done["Location"] == "/password-change/done/"
    assert not PasswordChangeRequired.objects.filter(user=lee).exists()
    assert lee_client.get(f"/projects/{project.id}/").status_code == 200
    assert lee_client.get("/api/me/").status_code == 200
    again, _ = _login("lee", "lee-own-pass-phrase")
    assert again.get(f"/projects/{project.id}/").status_code == 200


def test_wrong_old_password_changes_nothing(client, project, staff):
    one_time = _create(client, project, staff, "lee")
    lee_client, _ = _login("lee", one_time)
    refused = _change(lee_client, "guess", "lee-own-pass-phrase")
    assert refused.status_code == 200
    assert User.objects.get(username="lee").check_password(one_time)
    assert PasswordChangeRequired.objects.filter(user__username="lee").exists()


def test_pipeline_tokens_and_invited_accounts_are_not_held(client, project, staff):
    token = _create(client, project, staff, "etl", role="pipeline")
    assert Token.objects.get(user__username="etl").key == token
    response = Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    _create(client, project, staff, "ivy", role="reviewer", how="invite")
    assert not PasswordChangeRequired.objects.filter(user__username__in=["etl", "ivy"]).exists()


def test_staff_and_existing_users_log_in_as_before(client, project, staff):
    staff_client, _ = _login(staff.username, "correct-horse-battery")
    assert staff_client.get("/").status_code == 200
    assert staff_client.get("/api/me/").status_code == 200
