"""Export throughput: a consensus dataset of N items streamed as JSONL and CSV over REST.

    .venv/bin/python bench/bench_export.py --items 1000000

Sets up a project of N items with one finished agreement run (consensus per item) in the
benchmark PostgreSQL database (bench/_setup.py), serves it with gunicorn, and downloads
`GET /api/projects/{id}/export/?format=…&split=train:80,dev:10,test:10` while reading the
stream: time to first byte, total time, rows/s, and the worker's memory before and after.

The labels are read the way issue 13 defines them, with the work that costs: the project is one
merge behind its first version (v1 "borderline" and "unsure" merged into v2 "borderline", the
run measured v2), 1 % of the items are resolved by a reviewer on v1 ("unsure", read as
"borderline"), 0.5 % are gold from before versions were recorded, and 1,000 items were answered
after the run started (their consensus is computed live).
"""

import argparse
import os
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_setup, rss_mb, start_gunicorn, stop_gunicorn, worker_pid


def setup(items: int) -> tuple[int, str]:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from consistency.models import AgreementRun
    from consistency.services.schema_changes import schema_change_apply
    from labeling.models import ProjectMembership, Role
    from labeling.services.projects import project_create

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE labeling_project, authtoken_token, auth_user CASCADE")
    manager = get_user_model().objects.create(username="bench-exporter", is_staff=True)
    labeler = get_user_model().objects.create(username="bench-late-labeler")
    project = project_create(
        created_by=manager,
        name="bench export",
        data_type="record",
        label_kind="classes",
        classes=["1", "0", "borderline", "unsure"],
    )
    v1 = project.schema_version
    schema_change_apply(
        project=project,
        op="merge",
        params={"classes": ["borderline", "unsure"], "into": "borderline", "keep_instructions": True},
        note="bench: one merge behind",
        actor=manager,
        dry_run=False,
    )
    AgreementRun.objects.filter(project=project).delete()  # the change's run on no items
    ProjectMembership.objects.create(project=project, user=labeler, role=Role.LABELER)
    run = AgreementRun.objects.create(
        project=project,
        schema_version=project.schema_version,
        status="succeeded",
        params={"consensus": "majority"},
        report={},
        started_at=timezone.now() - timedelta(minutes=5),
        finished_at=timezone.now(),
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO labeling_item (project_id, kind, external_id, data, media, content_hash, original_filename, "
            "thumbnail, waveform, quality, metadata, target, slots_taken, is_gold, gold_value, created_at) "
            "SELECT %s, 'record', 'r' || g, jsonb_build_object('left', jsonb_build_object('name', 'Person ' || g), "
            "'right', jsonb_build_object('name', 'P. ' || g)), '', '', '', '', '', '{}', "
            "jsonb_build_object('region', 'R' || (g %% 5)), 3, 3, false, NULL, now() FROM generate_series(1, %s) g",
            [project.id, items],
        )
        cursor.execute(
            "INSERT INTO consistency_itemresult (run_id, item_id, n_answers, n_skipped, consensus, method, by_method, "
            "confidence, agreement, disagreement, is_tie, first_class, second_class) "
            "SELECT %s, id, 3, 0, to_jsonb(c), 'majority', jsonb_build_object('majority', jsonb_build_object("
            "'value', c, 'confidence', 0.67), 'dawid_skene', jsonb_build_object('value', c, 'confidence', 0.9)), "
            "0.67 + (id %% 3) * 0.1, 0.33 + (id %% 3) * 0.3, 0.2, false, '', '' "
            "FROM (SELECT id, CASE WHEN id %% 3 = 0 THEN '1' ELSE '0' END AS c FROM labeling_item "
            "WHERE project_id = %s) i",
            [run.id, project.id],
        )
        # 1 % resolved on v1 (read through the merge), 0.5 % gold without a recorded version.
        cursor.execute(
            "INSERT INTO consistency_review (project_id, item_id, status, final_value, final_version_id, "
            "is_example, version, updated_by_id, resolved_by_id, resolved_at, updated_at) "
            "SELECT %s, id, 'resolved', '\"unsure\"', %s, false, 1, %s, %s, now(), now() "
            "FROM labeling_item WHERE project_id = %s AND id %% 100 = 0",
            [project.id, v1.id, manager.id, manager.id, project.id],
        )
        cursor.execute(
            "UPDATE labeling_item SET is_gold = true, gold_value = '\"0\"' WHERE project_id = %s AND id %% 200 = 7",
            [project.id],
        )
        # 1,000 items answered after the run started: their consensus is computed live.
        cursor.execute(
            "WITH a AS (INSERT INTO labeling_assignment (project_id, item_id, labeler_id, status, created_at, "
            "updated_at) SELECT %s, id, %s, 'submitted', now(), now() FROM labeling_item WHERE project_id = %s "
            "AND id %% 1000 = 3 RETURNING id, item_id) "
            "INSERT INTO labeling_annotation (assignment_id, item_id, labeler_id, schema_version_id, value, "
            "skip_reason, comment, time_spent_ms, is_current, idempotency_key, source, created_at) "
            "SELECT a.id, a.item_id, %s, %s, '\"unsure\"', '', '', 1000, true, '', 'labeler', now() FROM a",
            [project.id, labeler.id, project.id, labeler.id, v1.id],
        )
        cursor.execute(
            "ANALYZE labeling_item; ANALYZE consistency_itemresult; ANALYZE consistency_review; "
            "ANALYZE labeling_annotation"
        )
    print(f"setup: {items:,} items with consensus in {time.perf_counter() - started:.1f} s")
    return project.id, Token.objects.create(user=manager).key


def download(url: str, token: str) -> tuple[float, float, int, int]:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as response:
        first = response.read(1)
        ttfb = time.perf_counter() - started
        size, lines = len(first), first.count(b"\n")
        while chunk := response.read(1 << 20):
            size += len(chunk)
            lines += chunk.count(b"\n")
    return ttfb, time.perf_counter() - started, size, lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--reuse", action="store_true", help="keep the data of the previous run")
    args = parser.parse_args()
    django_setup()
    if args.reuse:
        from rest_framework.authtoken.models import Token

        from labeling.models import Project

        project_id = Project.objects.get(name="bench export").id
        token = Token.objects.get(user__username="bench-exporter").key
    else:
        project_id, token = setup(args.items)
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    server, base = start_gunicorn(workers=1)
    try:
        worker = worker_pid(server.pid)
        print(
            "| format | rows | time to first byte s | total s | rows/s | MB | worker RSS before → after "
            "| load (1 min) |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for fmt, split in (
            ("jsonl", ""),
            ("jsonl", "train:80,dev:10,test:10"),
            ("csv", "train:80,dev:10,test:10"),
        ):
            before = rss_mb(worker)
            url = f"{base}/api/projects/{project_id}/export/?format={fmt}" + (
                f"&split={split}" if split else ""
            )
            ttfb, total, size, lines = download(url, token)
            rows = lines - (1 if fmt == "csv" else 0)
            print(
                f"| {fmt} | {rows:,} | {ttfb:.2f} | {total:.1f} | {rows / total:,.0f} | {size / 1024**2:.0f} "
                f"| {before:.0f} → {rss_mb(worker):.0f} MB | {os.getloadavg()[0]:.1f} |"
            )
    finally:
        stop_gunicorn(server)


if __name__ == "__main__":
    main()
