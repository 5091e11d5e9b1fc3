"""Your account: who you are, and an API token you can make, replace and revoke yourself."""

import pytest
from rest_framework.authtoken.models import Token

from labeling.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def test_me_lists_my_projects_and_roles(project, api_client):
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    me = client_for(labeler).get("/api/me/").json()
    assert me["username"] == labeler.username and me["token_created"] is not None
    assert me["projects"] == [{"id": project.id, "name": project.name, "role": "labeler"}]
    assert api_client.get("/api/me/").status_code == 401


def test_a_token_is_replaced_and_revoked_by_its_owner(api_client):
    user = UserFactory()
    old = Token.objects.create(user=user).key
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    made = api_client.post("/api/me/token/")
    assert made.status_code == 201
    new = made.json()["token"]
    assert new != old and len(new) == 40
    assert api_client.get("/api/me/").status_code == 401  # the old key no longer works
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert api_client.get("/api/me/").status_code == 200
    assert api_client.delete("/api/me/token/").status_code == 204
    assert api_client.get("/api/me/").status_code == 401
    assert not Token.objects.filter(user=user).exists()


def test_the_account_page_shows_a_new_token_once_and_revokes_it(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert "You have no API token." in page and user.username in page
    client.post("/account/token/")
    key = Token.objects.get(user=user).key
    assert key in client.get("/account/").content.decode()
    assert key not in client.get("/account/").content.decode()  # shown once
    client.post("/account/token/revoke/")
    assert not Token.objects.filter(user=user).exists()
    assert client.get("/account/token/").status_code == 405  # only POST changes anything


def test_session_token_changes_need_csrf(client):
    from django.test import Client

    user = UserFactory()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post("/api/me/token/").status_code == 403
    assert strict.post("/account/token/").status_code == 403
    assert not Token.objects.filter(user=user).exists()
