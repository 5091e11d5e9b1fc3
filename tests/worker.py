"""A real Celery worker process against the real Redis and the test database."""

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def live_database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(*options: str, stdout) -> subprocess.Popen:
    """`celery worker` on the test database and the test Redis, in a process of its own."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": live_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "CONCORD_REAL_WORKER": "1",
        # A debounce task that meets a run in flight looks again after this long.
        "CONCORD_AUTORUN_QUIET_SECONDS": "1",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", *options]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=stdout, stderr=subprocess.STDOUT, text=stdout is subprocess.PIPE
    )


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def _tasks_sent_to_redis():
    """Tasks sent from the test go through Redis to the worker processes, not run in-process."""
    import redis

    from config.celery import app

    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # no leftover messages from an earlier run
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker_process(transactional_db, request):
    """Start `celery worker` as a subprocess; tasks sent from the test are really queued in Redis.

    Parametrize indirectly with "prefork" to get a pool whose child process can be killed.
    """
    pool = getattr(request, "param", "solo")
    with _tasks_sent_to_redis():
        process = _start_worker(f"--pool={pool}", "--concurrency=1", stdout=subprocess.PIPE)
        try:
            _wait_until_ready(process)
            _drain(process)
            yield process
        finally:
            _stop([process])


def _drain(process) -> None:
    """Read the worker's log as it comes (into ``process.log``): a pipe nobody reads fills up at
    64 KiB and then blocks the worker in the middle of a log line, tasks and all."""
    process.log = []

    def read() -> None:
        for line in process.stdout:
            process.log.append(line)

    threading.Thread(target=read, daemon=True).start()


def _wait_until_ready(process, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if "ready." in line:
            return
    process.kill()
    raise RuntimeError("Celery worker did not start:\n" + "".join(lines[-40:]))


def wait_for(predicate, timeout: float = 20, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def worker_child_pid(process) -> int | None:
    """The prefork pool's child process (the one that runs tasks)."""
    path = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    children = path.read_text().split() if path.exists() else []
    return int(children[0]) if children else None


@pytest.fixture
def two_celery_workers(transactional_db, tmp_path):
    """Two `celery worker` processes on the same queue, as `docker compose` runs them (replicas: 2).

    Yields ``{name: log_path}``; each worker logs the tasks it received to its own file.
    """
    logs = {name: tmp_path / f"{name}.log" for name in ("w1", "w2")}
    with _tasks_sent_to_redis():
        processes = [
            _start_worker("--pool=solo", f"-n={name}@%h", stdout=log.open("w")) for name, log in logs.items()
        ]
        try:
            for log in logs.values():
                wait_for(lambda log=log: "ready." in log.read_text(), timeout=90)
            yield logs
        finally:
            _stop(processes)
