"""Import throughput: N tabular records in one file through the REST API, end to end.

    .venv/bin/python bench/bench_import.py --rows 100000
    .venv/bin/python bench/bench_import.py --rows 1000000 --modes job

What it measures: the wall time seen by an HTTP client on the same machine, from the first
byte of the request to the last byte of the answer (201), or, for a job, to the moment
``GET /api/jobs/{id}/`` first reports it succeeded (polled every 50 ms). Server: gunicorn, one
sync worker, production settings, on the benchmark PostgreSQL database (bench/_setup.py);
each measured import goes into a fresh, empty record project. Afterwards the rows in the
database are counted, and the same file is sent again (idempotency: nothing created).

Modes:

* ``csv``   — one multipart upload of a CSV with record pairs (``left.*`` / ``right.*``) and a
  metadata column; imported in the request (Arrow parses, ``COPY`` writes, PostgreSQL builds
  the JSON). Run ``--repeat`` times; the median is reported.
* ``json``  — the same rows as a JSON body ``[{external_id, data, metadata}]``. At 100,000 rows
  the body is over the 16 MiB inline limit, so it is stored and imported as a job; without a
  broker (as here) the job runs in the gunicorn process right after the request commits.
* ``job``   — the CSV again, but gunicorn runs with ``CONCORD_IMPORT_INLINE_MAX_BYTES=0`` and a
  Redis broker, so the request stores the file and a separate ``celery worker`` process
  imports it.

Memory: the gunicorn worker's (or Celery worker's) resident set before and after each import,
after a 1,000-row warm-up import (so module loading is not counted).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._setup import bench_database_url, django_setup, rss_mb, start_gunicorn, stop_gunicorn, worker_pid  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://localhost:6379/14")


def make_csv(rows: int) -> bytes:
    lines = ["external_id,left.name,left.email,left.city,right.name,right.email,right.city,region\n"]
    lines += [
        f"r{i},Person {i},p{i}@example.com,City {i % 50},P. {i},p{i}@mail.example,City {i % 47},R{i % 5}\n"
        for i in range(rows)
    ]
    return "".join(lines).encode()


def make_json(rows: int) -> bytes:
    return json.dumps(
        [
            {
                "external_id": f"r{i}",
                "data": {
                    "left": {"name": f"Person {i}", "email": f"p{i}@example.com", "city": f"City {i % 50}"},
                    "right": {"name": f"P. {i}", "email": f"p{i}@mail.example", "city": f"City {i % 47}"},
                },
                "metadata": {"region": f"R{i % 5}"},
            }
            for i in range(rows)
        ]
    ).encode()


def reset() -> str:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE labeling_item, labeling_project, labeling_job, authtoken_token, auth_user CASCADE"
        )
    manager = get_user_model().objects.create(username="bench-importer", is_staff=True)
    return Token.objects.create(user=manager).key


def new_project() -> int:
    from django.contrib.auth import get_user_model

    from labeling.services.projects import project_create

    manager = get_user_model().objects.get(username="bench-importer")
    project = project_create(
        created_by=manager,
        name=f"bench import {uuid.uuid4().hex[:6]}",
        data_type="record",
        label_kind="classes",
        classes=["1", "0"],
    )
    return project.id


def _request(url: str, token: str, body: bytes | None = None, content_type: str | None = None):
    headers = {"Authorization": f"Token {token}"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(
        url, data=body, method="POST" if body is not None else "GET", headers=headers
    )
    with urllib.request.urlopen(request, timeout=900) as response:
        return response.status, json.loads(response.read())


def send(base: str, project_id: int, token: str, mode: str, content: bytes) -> tuple[int, dict, float]:
    url = f"{base}/api/projects/{project_id}/items/"
    if mode == "json":
        body_bytes, content_type = content, "application/json"
    else:
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="metadata_columns"\r\n\r\nregion\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="records.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        body_bytes = head + content + f"\r\n--{boundary}--\r\n".encode()
        content_type = f"multipart/form-data; boundary={boundary}"
    started = time.perf_counter()
    status, body = _request(url, token, body_bytes, content_type)
    while status == 202 and body.get("status") not in ("succeeded", "failed"):
        time.sleep(0.05)
        _, body = _request(f"{base}/api/jobs/{body['id']}/", token)
    seconds = time.perf_counter() - started
    if "result" in body:  # a job: its result is the import report
        status = f"202 → {body['status']}"
        body = body.get("result") or {"error": body.get("error")}
    return status, body, seconds


def count(project_id: int) -> int:
    from labeling.models import Item

    return Item.objects.filter(project_id=project_id).count()


def run_mode(mode: str, rows: int, repeat: int, token: str) -> list[str]:
    content = make_json(rows) if mode == "json" else make_csv(rows)
    extra_env, worker = {}, None
    if mode == "job":
        extra_env = {"REDIS_URL": REDIS_URL, "CONCORD_IMPORT_INLINE_MAX_BYTES": "0"}
        env = {
            **os.environ,
            **extra_env,
            "DATABASE_URL": bench_database_url(),
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "bench-only-secret",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
        }
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--concurrency=1",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
        )
        time.sleep(4)  # the worker connects to Redis
    server, base = start_gunicorn(workers=1, extra_env=extra_env)
    lines = []
    try:
        measured = worker.pid if worker else worker_pid(server.pid)
        # Warm-up: a small import first, so the memory figures show the import, not module loading.
        send(base, new_project(), token, mode, make_json(1000) if mode == "json" else make_csv(1000))
        times = []
        for _ in range(repeat):
            project_id = new_project()
            before = rss_mb(measured)
            status, _, seconds = send(base, project_id, token, mode, content)
            after = rss_mb(measured)
            stored = count(project_id)
            times.append(seconds)
            lines.append(
                f"| {mode} | {rows:,} | {len(content) / 1024**2:.1f} | {status} | {seconds:.2f} | "
                f"{rows / seconds:,.0f} | {before:.0f} → {after:.0f} MB | {stored:,} |"
            )
        status2, body2, seconds2 = send(base, project_id, token, mode, content)
        lines.append(
            f"| {mode}, same file again | {rows:,} | {len(content) / 1024**2:.1f} | {status2} | {seconds2:.2f} | "
            f"{rows / seconds2:,.0f} | created {body2.get('created')}, skipped {body2.get('skipped_existing')} | "
            f"{count(project_id):,} |"
        )
        if repeat > 1:
            median = statistics.median(times)
            lines.append(
                f"| {mode}, median of {repeat} | {rows:,} | | | {median:.2f} | {rows / median:,.0f} | | |"
            )
    finally:
        stop_gunicorn(server)
        if worker:
            worker.terminate()
            worker.wait(timeout=20)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--modes", default="csv,json,job", help="comma-separated: csv, json, job")
    parser.add_argument("--repeat", type=int, default=3, help="measured imports per mode (fresh projects)")
    args = parser.parse_args()
    os.environ["MEDIA_ROOT"] = str(ROOT / "var" / "bench-media")
    django_setup()
    token = reset()
    print(
        "| mode | rows | MB | status | seconds (end to end) | rows/s | server memory before → after | rows stored |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for mode in args.modes.split(","):
        for line in run_mode(mode.strip(), args.rows, args.repeat, token):
            print(line, flush=True)


if __name__ == "__main__":
    main()
