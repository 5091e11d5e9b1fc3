import pytest


def test_healthz_is_alive(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_and_broker(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}  # no replica configured
    assert "replica_lag_seconds" not in response.json()


@pytest.mark.django_db
def test_readyz_reports_broker_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "down"


@pytest.mark.django_db
def test_openapi_schema_lists_the_public_resources(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    # The REST contract of PRODUCT.md: these verbs on these paths must stay.
    contract = [
        ("post", "/api/projects/"),
        ("get", "/api/projects/{project_id}/"),
        ("post", "/api/projects/{project_id}/members/"),
        ("post", "/api/users/"),
        ("post", "/api/projects/{project_id}/items/"),
        ("post", "/api/projects/{project_id}/annotations/import/"),
        ("get", "/api/projects/{project_id}/next/"),
        ("post", "/api/items/{item_id}/annotations/"),
        ("post", "/api/projects/{project_id}/agreement-runs/"),
        ("get", "/api/agreement-runs/{run_id}/"),
        ("get", "/api/projects/{project_id}/disagreements/"),
        ("post", "/api/projects/{project_id}/schema-changes/"),
        ("get", "/api/projects/{project_id}/export/"),
        ("get", "/api/jobs/{job_id}/"),
    ]
    missing = [(verb, path) for verb, path in contract if verb not in paths.get(path, {})]
    assert missing == []


@pytest.mark.django_db
def test_api_docs_page_serves_swagger_from_the_app(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()


def test_responses_carry_server_timing(client):
    response = client.get("/healthz")
    assert response["Server-Timing"].startswith("app;dur=")
