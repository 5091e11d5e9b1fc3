"""Media import throughput: a zip of N small JPEGs processed by a real Celery worker.

    .venv/bin/python bench/bench_import_media.py --images 2000

Uploads one zip to `POST /api/projects/{id}/items/` on gunicorn, with Redis as the broker and a
`celery worker` process (the benchmark starts both against the benchmark database), then polls
`GET /api/jobs/{id}/` until the job ends. Every image is decoded under the pixel limit, rotated
by its EXIF orientation, measured (brightness, contrast, blur), thumbnailed and stored.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._setup import bench_database_url, django_setup, start_gunicorn, stop_gunicorn  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://localhost:6379/14")


def make_zip(n: int) -> bytes:
    rng = np.random.default_rng(0)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for i in range(n):
            pixels = (rng.random((96, 128, 3)) * 255).astype(np.uint8)
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, "JPEG", quality=80)
            archive.writestr(f"img-{i:05d}.jpg", buffer.getvalue())
    return out.getvalue()


def setup() -> tuple[int, str]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from labeling.services.projects import project_create

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE labeling_project, labeling_job, authtoken_token, auth_user CASCADE")
    manager = get_user_model().objects.create(username="bench-media", is_staff=True)
    project = project_create(
        created_by=manager,
        name="bench media",
        data_type="image",
        label_kind="classes",
        classes=["ok", "defect"],
    )
    return project.id, Token.objects.create(user=manager).key


def post_zip(base: str, project_id: int, token: str, content: bytes) -> dict:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="images.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{base}/api/projects/{project_id}/items/",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=2000)
    args = parser.parse_args()
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["MEDIA_ROOT"] = str(ROOT / "var" / "bench-media")
    django_setup()
    project_id, token = setup()
    content = make_zip(args.images)
    env = {
        **os.environ,
        "DATABASE_URL": bench_database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench-only-secret",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1", "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
    )
    # REDIS_URL for gunicorn too: the request only stores the zip, the worker process imports it.
    server, base = start_gunicorn(workers=1, extra_env={"REDIS_URL": REDIS_URL})
    time.sleep(3)  # the worker connects to Redis
    try:
        started = time.perf_counter()
        job = post_zip(base, project_id, token, content)
        while job["status"] not in ("succeeded", "failed"):
            time.sleep(0.1)
            request = urllib.request.Request(
                f"{base}/api/jobs/{job['id']}/",
                headers={"Authorization": f"Token {token}"},
            )
            with urllib.request.urlopen(request) as response:
                job = json.loads(response.read())
        seconds = time.perf_counter() - started
    finally:
        worker.terminate()
        stop_gunicorn(server)
        worker.wait(timeout=20)
    result = job.get("result") or {}
    print(f"zip: {args.images:,} JPEGs of 128×96, {len(content) / 1024**2:.1f} MB; 1 worker process")
    print("| images | job status | seconds (upload to job done) | images/s | created | rejected |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| {args.images:,} | {job['status']} | {seconds:.1f} | {args.images / seconds:.0f} | "
        f"{result.get('created')} | {result.get('rejected_count', len(result.get('rejected', [])))} |"
    )


if __name__ == "__main__":
    main()
