"""Shared setup for benchmarks: a dedicated PostgreSQL database and a gunicorn server.

Benchmarks run against `BENCH_DATABASE_URL` (default: postgres://postgres@localhost:5432/concord_bench),
which they create and migrate if needed, never against the development database.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@localhost:5432/concord_bench"


def bench_database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)


def django_setup(database_url: str | None = None) -> None:
    """Point Django at the benchmark database (created and migrated on first use)."""
    import dj_database_url
    import psycopg

    url = database_url or bench_database_url()
    cfg = dj_database_url.parse(url)
    admin = psycopg.connect(
        host=cfg["HOST"],
        port=cfg["PORT"] or 5432,
        user=cfg["USER"],
        password=cfg["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]).fetchone()
    if not exists:
        admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    admin.close()

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_gunicorn(*processes: subprocess.Popen, timeout: float = 30) -> None:
    """Stop benchmark or test servers at once. SIGTERM is gunicorn's graceful stop: the threaded
    worker then serves its open keep-alive connections until ``--graceful-timeout`` (30 s);
    SIGINT is its quick stop, which a server with nothing left to do wants."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes:
        process.wait(timeout=timeout)


def dockerfile_cmd() -> list[str]:
    """The image's command (the Dockerfile's exec-form CMD, a JSON array)."""
    line = next(x for x in (ROOT / "Dockerfile").read_text().splitlines() if x.startswith("CMD "))
    return json.loads(line.removeprefix("CMD "))


def dockerfile_gunicorn_option(name: str, default: str) -> str:
    """An option of the image's gunicorn command (``--threads``, ``--timeout``), or ``default``."""
    words = dockerfile_cmd()
    return words[words.index(name) + 1] if name in words else default


def dockerfile_threads() -> int:
    """The threads per gunicorn worker the image's CMD runs (1: the sync worker)."""
    return int(dockerfile_gunicorn_option("--threads", "1"))


def start_gunicorn(
    *,
    workers: int,
    threads: int | None = None,
    port: int | None = None,
    extra_env: dict | None = None,
    stdout=None,
) -> tuple[subprocess.Popen, str]:
    """gunicorn on the benchmark database with production-like settings (DEBUG off, no SSL redirect),
    with the image's worker class and threads unless ``threads`` says otherwise.

    Tasks run in-process unless ``extra_env`` sets ``REDIS_URL`` (then a Celery worker runs them).
    """
    threads = dockerfile_threads() if threads is None else threads
    port = port or free_port()
    env = {
        **os.environ,
        "DATABASE_URL": bench_database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench-only-secret",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("REDIS_URL", None)
    env.update(extra_env or {})
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--timeout",
        dockerfile_gunicorn_option("--timeout", "30"),
    ]
    if threads > 1:
        args += ["--threads", str(threads), "--worker-class", "gthread"]
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=stdout)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a loaded two-core machine can take a minute to import Django 4×
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def worker_pid(master: int) -> int:
    """The first gunicorn worker of a master process (its memory is what the benchmarks report)."""
    for _ in range(50):
        children = Path(f"/proc/{master}/task/{master}/children")
        if children.exists() and children.read_text().split():
            return int(children.read_text().split()[0])
        time.sleep(0.1)
    return master
