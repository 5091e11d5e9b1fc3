"""Security settings and headers (issue 9)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_check_deploy():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},  # set by browser tests
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 60 + "a-long-random-looking-secret-for-the-check",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/login/", "/api/docs/", "/healthz"])
def test_every_response_has_a_csp_without_inline_script(client, url):
    response = client.get(url)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    html = response.content.decode(errors="ignore")
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)


def test_no_template_has_inline_script():
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text)
        assert not inline, f"{template}: {inline}"


def test_requests_carry_an_id_into_logs(client):
    import json as jsonlib
    import logging

    from core.http.logs import JsonFormatter, request_id

    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    assert len(client.get("/healthz", HTTP_X_REQUEST_ID="bad id!")["X-Request-ID"]) == 32
    token = request_id.set("r-1")
    try:
        record = logging.LogRecord("concord", logging.INFO, __file__, 1, "hello %s", ("world",), None)
        line = jsonlib.loads(JsonFormatter().format(record))
    finally:
        request_id.reset(token)
    assert line["message"] == "hello world" and line["request_id"] == "r-1"


@pytest.mark.django_db
def test_metrics_are_for_staff_or_the_metrics_token(client, settings, staff, user):
    settings.METRICS_TOKEN = "s3cret-metrics"
    client.get("/healthz")
    assert client.get("/metrics").status_code == 404
    client.force_login(user)
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    client.logout()
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert response.status_code == 200 and b"django_http_requests" in response.content
    client.force_login(staff)
    assert client.get("/metrics").status_code == 200
