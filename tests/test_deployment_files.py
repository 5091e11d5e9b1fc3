"""docker-compose.yml and the Makefile refer to things that exist in the project."""

import importlib
import shlex
from pathlib import Path

import yaml

from bench._setup import dockerfile_cmd

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_every_service_with_a_healthcheck():
    services = _compose()["services"]
    assert set(services) == {
        "web",
        "worker",
        "worker-runs",
        "beat",
        "postgres",
        "pgbouncer",
        "redis",
        "minio",
    }
    assert services["worker"]["deploy"]["replicas"] >= 2
    for name, service in services.items():
        assert "healthcheck" in service, name
    for name in ["web", "worker", "worker-runs", "beat"]:
        env = services[name]["environment"]
        assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "AWS_STORAGE_BUCKET_NAME"} <= set(env), name
        assert "@pgbouncer:" in env["DATABASE_URL"] and env["DATABASE_POOLER"] == "pgbouncer"
        for service in ("postgres", "pgbouncer", "redis", "minio"):
            assert services[name]["depends_on"][service]["condition"] == "service_healthy"
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"


def test_compose_workers_cover_every_queue():
    from config.celery import app

    services = _compose()["services"]
    consumed = set()
    for name in ("worker", "worker-runs"):
        words = services[name]["command"].split()
        consumed |= set(words[words.index("-Q") + 1].split(","))
    assert consumed == {q.name for q in app.amqp.queues.values()}


def test_compose_commands_point_at_real_modules():
    services = _compose()["services"]
    commands = " ".join(
        " ".join(s["command"]) if isinstance(s["command"], list) else s["command"]
        for name, s in services.items()
        if name in {"web", "worker", "worker-runs", "beat"}
    )
    words = shlex.split(commands.replace("&&", " "))
    for word in words:
        if word.endswith(":application"):
            module, attribute = word.split(":")
            assert hasattr(importlib.import_module(module), attribute)
    assert words.count("-A") == 3 and "config" in words
    assert hasattr(importlib.import_module("config.celery"), "app")
    assert (ROOT / "Dockerfile").exists() and (ROOT / "uv.lock").exists()


def test_makefile_has_the_two_readme_commands():
    makefile = (ROOT / "Makefile").read_text()
    readme = (ROOT / "README.md").read_text()
    for target in ["run:", "test:"]:
        assert f"\n{target}" in makefile
    assert "make run" in readme and "make test" in readme


def test_web_runs_the_same_gunicorn_in_the_image_and_compose_with_room_for_long_downloads():
    """The sync worker kills a request that outlasts ``--timeout``: a streamed export of a few
    million rows must fit (about 300,000 rows/s measured at 2M items, docs/benchmarks.md), so
    the image and compose both give it at least 120 s, and run the same command."""
    image = dockerfile_cmd()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = shlex.split(compose["services"]["web"]["command"])[-1]  # sh -c "migrate && … && gunicorn …"
    served = shlex.split(web.split("&&")[-1])
    assert served == image
    assert int(image[image.index("--timeout") + 1]) >= 120
    assert "--threads" not in image  # server-time targets are measured on the sync worker
