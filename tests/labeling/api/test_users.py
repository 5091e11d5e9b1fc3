import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from tests.helpers import client_for, error_code

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_admin_creates_user_and_gets_a_working_token(staff, api_client):
    response = client_for(staff).post(
        "/api/users/", {"username": "pipeline", "email": "ci@example.com"}, format="json"
    )
    assert response.status_code == 201, response.json()
    token = response.json()["token"]
    assert Token.objects.get(user__username="pipeline").key == token
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/projects/").status_code == 200


def test_non_admin_cannot_create_users(user):
    response = client_for(user).post("/api/users/", {"username": "x"}, format="json")
    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert not User.objects.filter(username="x").exists()


def test_user_creation_refuses_is_staff_mass_assignment(staff):
    response = client_for(staff).post("/api/users/", {"username": "eve", "is_staff": True}, format="json")
    assert response.status_code == 400
    assert not User.objects.filter(username="eve").exists()


def test_duplicate_username_is_409(staff):
    client = client_for(staff)
    assert client.post("/api/users/", {"username": "dup"}, format="json").status_code == 201
    response = client.post("/api/users/", {"username": "DUP"}, format="json")
    assert response.status_code == 409
    assert User.objects.filter(username__iexact="dup").count() == 1


def test_user_with_project_permission_can_create_projects(staff):
    token = (
        client_for(staff)
        .post("/api/users/", {"username": "mle", "can_create_projects": True}, format="json")
        .json()["token"]
    )
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.post(
        "/api/projects/",
        {"name": "Speech", "data_type": "audio", "label_kind": "transcription"},
        format="json",
    )
    assert response.status_code == 201, response.json()


def test_a_password_an_admin_chose_is_one_time_unless_they_say_otherwise(staff):
    from django.test import Client

    from core.accounts.models import PasswordChangeRequired

    client = client_for(staff)
    made = client.post("/api/users/", {"username": "lee", "password": "chosen-by-admin"}, format="json")
    assert made.status_code == 201 and made.json()["must_change_password"] is True
    assert PasswordChangeRequired.objects.get(user__username="lee").set_by == staff
    lee = Client()
    lee.post("/login/", {"username": "lee", "password": "chosen-by-admin"})
    held = lee.get("/")
    assert held.status_code == 302 and held["Location"] == "/password-change/"
    assert lee.get("/api/me/").json()["error"]["code"] == "password_change_required"

    kept = client.post(
        "/api/users/",
        {"username": "kim", "password": "chosen-by-admin", "must_change_password": False},
        format="json",
    )
    assert kept.status_code == 201 and kept.json()["must_change_password"] is False
    kim = Client()
    kim.post("/login/", {"username": "kim", "password": "chosen-by-admin"})
    assert kim.get("/api/me/").status_code == 200
    # An API-only account has no password to change.
    etl = client.post("/api/users/", {"username": "etl"}, format="json")
    assert etl.json()["must_change_password"] is False
    assert not PasswordChangeRequired.objects.filter(user__username__in=["kim", "etl"]).exists()
