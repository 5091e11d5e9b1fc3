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
