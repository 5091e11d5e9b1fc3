"""Import throughput: N tabular records in one CSV file through the REST API.

    .venv/bin/python bench/bench_import.py --rows 100000

A fresh record project in the benchmark PostgreSQL database (bench/_setup.py), gunicorn with
production settings, one multipart upload of a CSV with pair columns and a metadata column.
Measures end-to-end wall time from the client (upload, parse, COPY, response) and the server
worker's memory before and after; then checks the row count in the database.
"""

import argparse
import asyncio
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_setup, rss_mb, start_gunicorn, worker_pid


def make_csv(rows: int) -> bytes:
    out = io.StringIO()
    out.write("external_id,left.name,left.email,left.city,right.name,right.email,right.city,region\n")
    for i in range(rows):
        out.write(
            f"r{i},Person {i},p{i}@example.com,City {i % 50},P. {i},p{i}@mail.example,City {i % 47},R{i % 5}\n"
        )
    return out.getvalue().encode()


def setup(rows: int):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from labeling.services.projects import project_create

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE labeling_item, labeling_project, authtoken_token, auth_user CASCADE")
    manager = get_user_model().objects.create(username="bench-importer", is_staff=True)
    project = project_create(
        created_by=manager, name="bench import", data_type="record", label_kind="classes", classes=["1", "0"]
    )
    return project.id, Token.objects.create(user=manager).key


async def upload(base: str, project_id: int, token: str, content: bytes) -> tuple[int, dict, float]:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("file", content, filename="records.csv", content_type="text/csv")
    form.add_field("metadata_columns", "region")
    started = time.perf_counter()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{base}/api/projects/{project_id}/items/",
            data=form,
            headers={"Authorization": f"Token {token}"},
            timeout=aiohttp.ClientTimeout(total=600),
        ) as response,
    ):
        body = await response.json()
        return response.status, body, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    django_setup()
    project_id, token = setup(args.rows)
    content = make_csv(args.rows)
    server, base = start_gunicorn(workers=1)
    try:
        worker = worker_pid(server.pid)
        before = rss_mb(worker)
        status, body, seconds = asyncio.run(upload(base, project_id, token, content))
        after = rss_mb(worker)
        # Re-sending the same file must create nothing (idempotent on external_id).
        status2, body2, seconds2 = asyncio.run(upload(base, project_id, token, content))
    finally:
        server.terminate()
        server.wait(timeout=10)
    from labeling.models import Item

    stored = Item.objects.filter(project_id=project_id).count()
    print(f"file: {args.rows:,} rows, {len(content) / 1024**2:.1f} MB CSV")
    print("| rows | status | seconds | rows/s | worker RSS before → after |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| {args.rows:,} | {status} | {seconds:.2f} | {args.rows / seconds:,.0f} | {before:.0f} → {after:.0f} MB |"
    )
    print(
        f"re-import of the same file: status {status2}, created {body2.get('created')}, "
        f"skipped {body2.get('skipped_existing')}, {seconds2:.2f} s"
    )
    print(f"items in the database: {stored:,} (created reported: {body.get('created')})")


if __name__ == "__main__":
    main()
