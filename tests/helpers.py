from rest_framework.test import APIClient


def client_for(user) -> APIClient:
    """An API client authenticated with the user's token, as a pipeline or script would be."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def error_code(response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]), body
    return body["error"]["code"]
