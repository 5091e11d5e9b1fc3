"""Every server entry point defaults to production, started exactly as the image starts it.

The Dockerfile's CMD (gunicorn on `config.wsgi:application`), the compose file's worker
(`celery -A config worker`) and the ASGI module run here with no DJANGO_SETTINGS_MODULE at all:
without SECRET_KEY they refuse to start; with one, DEBUG is off and cookies are Secure.
"""

import http.client
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from bench._setup import dockerfile_cmd
from tests.helpers import http_call
from tests.worker import live_database_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HTTPS = {"X-Forwarded-Proto": "https"}  # what the TLS proxy in front of gunicorn sends


def _image_env(**extra: str) -> dict[str, str]:
    """The process environment of the image: no settings module, no key, no DEBUG."""
    dropped = {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    return {**env, **extra}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _gunicorn(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    command = dockerfile_cmd()
    assert command[:2] == ["gunicorn", "config.wsgi:application"], command
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[command.index("--workers") + 1] = "2"
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return process, port


def test_dockerfile_does_not_need_a_settings_variable_to_be_production():
    # The image may name production explicitly; the entry points must not depend on it.
    assert "config.settings.local" not in (ROOT / "Dockerfile").read_text()


def test_gunicorn_as_the_dockerfile_runs_it_refuses_to_start_without_a_secret_key():
    process, _ = _gunicorn(_image_env())
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode != 0, output
    assert "SECRET_KEY must be set" in output


@pytest.mark.django_db(transaction=True)
def test_gunicorn_as_the_dockerfile_runs_it_is_production(tmp_path):
    env = _image_env(
        SECRET_KEY="k" * 50 + "-entry-point-test",
        DATABASE_URL=live_database_url(),
        CONCORD_VAR_DIR=str(tmp_path),
    )
    # The image's build step, which the manifest static storage of production needs.
    build = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env={**env, "SECRET_KEY": "build-only", "DJANGO_SETTINGS_MODULE": "config.settings.production"},
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    process, port = _gunicorn(env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = http_call(f"{base}/healthz", headers=HTTPS)
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert status == 200

        # DEBUG off: a 404 is the plain page, not Django's technical one listing the URLconf.
        status, _, body = http_call(f"{base}/no-such-page/", headers=HTTPS)
        assert status == 404
        assert b"URLconf" not in body and b"DEBUG = True" not in body

        status, headers, _ = http_call(f"{base}/login/", headers=HTTPS)
        assert status == 200
        cookies = [v for k, v in headers.items() if k.lower() == "set-cookie"]
        assert cookies and all("Secure" in cookie for cookie in cookies), cookies

        # Plain HTTP is redirected to HTTPS (SECURE_SSL_REDIRECT defaults on in production).
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/login/")
        response = connection.getresponse()
        assert response.status == 301 and response.getheader("Location").startswith("https://")
        connection.close()
    finally:
        process.terminate()
        process.wait(timeout=20)


def _asgi_probe(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import config.asgi; from django.conf import settings; "
        "print(settings.SETTINGS_MODULE, settings.DEBUG, "
        "settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_asgi_refuses_to_start_without_a_secret_key_and_is_production_with_one():
    refused = _asgi_probe(_image_env())
    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr
    started = _asgi_probe(_image_env(SECRET_KEY="k" * 60))
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["config.settings.production", "False", "True", "True"]


def _compose_worker_command() -> list[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = shlex.split(compose["services"]["worker"]["command"])
    assert command[:4] == ["celery", "-A", "config", "worker"], command
    return command


def test_celery_worker_as_compose_runs_it_refuses_to_start_without_a_secret_key():
    result = subprocess.run(
        _compose_worker_command(), cwd=ROOT, env=_image_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stdout + result.stderr


@pytest.mark.django_db(transaction=True)
def test_celery_worker_as_compose_runs_it_is_production():
    env = _image_env(
        SECRET_KEY="k" * 60,
        DATABASE_URL=live_database_url(),
        REDIS_URL=settings.REDIS_URL,
        LOG_FORMAT="plain",
    )
    command = [
        *_compose_worker_command(),
        "--pool=solo",
        "--without-gossip",
        "--without-mingle",
        "-Q",
        "entry-test",
    ]
    command = [c for c in command if not c.startswith("--concurrency")]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            lines.append(line)
            if "Concord worker ready" in line:
                break
        ready = next((line for line in lines if "Concord worker ready" in line), None)
        assert ready, "".join(lines[-40:])
        assert "settings=config.settings.production DEBUG=False" in ready
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_local_settings_have_no_constant_key(tmp_path):
    """Without SECRET_KEY, local settings make a random key per checkout (mode 600), never a constant."""
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    keys = []
    for name in ("a", "b"):
        env = _image_env(DJANGO_SETTINGS_MODULE="config.settings.local", CONCORD_VAR_DIR=str(tmp_path / name))
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        keys.append(result.stdout.strip())
        assert (tmp_path / name / "secret_key").stat().st_mode & 0o777 == 0o600
        assert (tmp_path / name / "secret_key").read_text().strip() == keys[-1]
    assert keys[0] != keys[1] and min(map(len, keys)) >= 50
    for module in (ROOT / "config" / "settings").glob("*.py"):
        if module.name != "test.py":
            assert 'SECRET_KEY") or "' not in module.read_text(), module
