"""Server time of the manager pages at scale: a project of N items (1M by default), three
labelers' answers on every item (3N annotations), a finished agreement run.

    .venv/bin/python bench/bench_pages.py --items 1000000

Each page is rendered in-process by Django's test client (server time: view, queries and
template, no network), --repeat times after one warm-up; the median and the worst are printed
with the number of SQL queries. The data browser is timed on its first page, deep in the
project (keyset: ``after=`` an id near the end) and with each filter.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_setup

CLASSES = ["deep scratch", "shallow scratch", "dent", "none"]


def setup(items: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from consistency.models import AgreementRun
    from labeling.models import ProjectMembership, Role
    from labeling.services.projects import project_create

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE labeling_project, authtoken_token, auth_user CASCADE")
    users = get_user_model().objects
    manager = users.create(username="bench-manager", is_staff=True)
    project = project_create(
        created_by=manager, name="bench pages", data_type="image", label_kind="classes", classes=CLASSES
    )
    labelers = [users.create(username=f"bench-labeler{i}") for i in range(3)]
    for labeler in labelers:
        ProjectMembership.objects.create(project=project, user=labeler, role=Role.LABELER)
    version = project.schema_version
    run = AgreementRun.objects.create(
        project=project,
        schema_version=version,
        status="succeeded",
        params={"consensus": "majority"},
        report={"overall": {"alpha": 0.61}},
        headline_alpha=0.61,
        finished_at=timezone.now(),
    )
    started = time.perf_counter()
    classes_sql = "(ARRAY['deep scratch','shallow scratch','dent','none'])"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO labeling_item (project_id, kind, external_id, data, media, content_hash, "
            "original_filename, thumbnail, waveform, quality, metadata, target, slots_taken, is_gold, "
            "gold_value, disagrees_after_max, created_at) "
            "SELECT %s, 'image', 'phone-' || lpad(g::text, 7, '0') || '.jpg', '{}', '', '', '', '', '', '{}', "
            "jsonb_build_object('camera', 'C' || (g %% 4), 'factory', 'F' || (g %% 3), "
            "'_generated_defect', 'dent'), 3, CASE WHEN g %% 10 = 0 THEN 2 ELSE 3 END, g %% 500 = 0, NULL, "
            "false, now() FROM generate_series(1, %s) g",
            [project.id, items],
        )
        for labeler in labelers:
            cursor.execute(
                "INSERT INTO labeling_assignment (project_id, item_id, labeler_id, status, created_at, updated_at) "
                "SELECT %s, id, %s, 'submitted', now(), now() FROM labeling_item WHERE project_id = %s",
                [project.id, labeler.id, project.id],
            )
            cursor.execute(
                "INSERT INTO labeling_annotation (assignment_id, item_id, labeler_id, schema_version_id, value, "
                "skip_reason, comment, time_spent_ms, is_current, idempotency_key, source, created_at) "
                f"SELECT a.id, a.item_id, a.labeler_id, %s, to_jsonb({classes_sql}[1 + (a.item_id + %s) %% 4]), "
                "'', '', 3000, true, '', 'labeler', now() FROM labeling_assignment a "
                "WHERE a.project_id = %s AND a.labeler_id = %s",
                [version.id, labeler.id % 2, project.id, labeler.id],
            )
        cursor.execute(
            "INSERT INTO consistency_itemresult (run_id, item_id, n_answers, n_skipped, consensus, method, "
            "by_method, confidence, agreement, disagreement, is_tie, first_class, second_class) "
            f"SELECT %s, id, 3, 0, to_jsonb({classes_sql}[1 + id %% 4]), 'majority', '{{}}', 0.67, "
            "(id %% 7) / 6.0, CASE WHEN id %% 3 = 0 THEN 0.4 ELSE 0 END, false, '', '' "
            "FROM labeling_item WHERE project_id = %s",
            [run.id, project.id],
        )
        cursor.execute("VACUUM ANALYZE labeling_item")
        cursor.execute("VACUUM ANALYZE labeling_annotation")
        cursor.execute("VACUUM ANALYZE labeling_assignment")
        cursor.execute("VACUUM ANALYZE consistency_itemresult")
    print(f"setup: {items:,} items, {3 * items:,} answers, one run in {time.perf_counter() - started:.0f} s")
    last = project.items.order_by("-id").values_list("id", flat=True)[200]
    return {"project": project.id, "manager": manager, "labeler": labelers[0].id, "deep": last}


def decisions(project, manager) -> None:
    """What a project in use has after its run (once; kept with --reuse): the run started after
    the answers, 1 % of the items resolved by a reviewer, 100 marked as lacking information,
    the gold items' values, and 1,000 items answered again since the run (their consensus is
    read live). These are the items the export preview and the split filter read one by one."""
    from datetime import timedelta

    from django.db import connection

    from consistency.models import AgreementRun, Review

    if Review.objects.filter(project=project).exists():
        return
    run = AgreementRun.objects.filter(project=project).latest("id")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(created_at) FROM labeling_annotation WHERE item_id = (SELECT max(id) FROM labeling_item WHERE project_id = %s)",
            [project.id],
        )
        (answered,) = cursor.fetchone()
        # The run read every answer: it started after them, past the live margin (60 s).
        started = answered + timedelta(minutes=2)
        AgreementRun.objects.filter(pk=run.pk).update(started_at=started, finished_at=started)
        cursor.execute(
            "INSERT INTO consistency_review (project_id, item_id, status, final_value, final_version_id, "
            "is_example, version, updated_by_id, resolved_by_id, resolved_at, updated_at) "
            "SELECT %s, id, CASE WHEN id %% 10000 = 1 THEN 'lacks_information' ELSE 'resolved' END, "
            "CASE WHEN id %% 10000 = 1 THEN NULL ELSE '\"dent\"'::jsonb END, %s, false, 1, %s, %s, now(), now() "
            "FROM labeling_item WHERE project_id = %s AND (id %% 100 = 0 OR id %% 10000 = 1)",
            [project.id, project.schema_version.id, manager.id, manager.id, project.id],
        )
        cursor.execute(
            "UPDATE labeling_item SET gold_value = '\"none\"', gold_version_id = %s "
            "WHERE project_id = %s AND is_gold",
            [project.schema_version.id, project.id],
        )
        cursor.execute(
            "UPDATE labeling_annotation SET value = '\"dent\"', created_at = now() + interval '5 minutes' "
            "WHERE id IN (SELECT DISTINCT ON (a.item_id) a.id FROM labeling_annotation a JOIN labeling_item i ON i.id = a.item_id "
            "WHERE i.project_id = %s AND i.id %% 1000 = 3 AND a.is_current ORDER BY a.item_id, a.id)",
            [project.id],
        )
        cursor.execute("ANALYZE consistency_review; ANALYZE labeling_item")
    print("decisions: 1 % resolved, 100 lacking information, gold values, 1,000 items answered since the run")


def stats_job(project, manager) -> None:
    """The statistics job whose figures Operations reads at this size: run once, timed."""
    from django.utils import timezone

    from core.jobs.models import Job, JobStatus
    from labeling.models import JobKind
    from labeling.services.stats import project_stats_compute

    jobs = project.jobs.filter(kind=JobKind.PROJECT_STATS, status=JobStatus.SUCCEEDED)
    if jobs.filter(result__has_key="operations").exists():
        return
    job = Job.objects.create(
        kind=JobKind.PROJECT_STATS, project=project, created_by=manager, status="running"
    )
    started = time.perf_counter()
    job.result = project_stats_compute(job, lambda percent: None)
    print(f"statistics job (Operations' answer figures): {time.perf_counter() - started:.1f} s")
    job.status, job.finished_at = JobStatus.SUCCEEDED, timezone.now()
    job.save()


def timed(client, url: str, repeat: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    client.get(url)  # warm-up
    if "preview" in url:
        print(f"| (first request) | {(time.perf_counter() - started) * 1000:.0f} | | | |")
    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), len(queries), response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the data of the previous run")
    parser.add_argument("--only", default="", help="time only the pages whose name contains this")
    args = parser.parse_args()
    django_setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from labeling.models import Project

    settings.ALLOWED_HOSTS = ["*"]
    if args.reuse:
        project = Project.objects.get(name="bench pages")
        ctx = {
            "project": project.id,
            "manager": get_user_model().objects.get(username="bench-manager"),
            "labeler": get_user_model().objects.get(username="bench-labeler0").id,
            "deep": project.items.order_by("-id").values_list("id", flat=True)[200],
        }
    else:
        ctx = setup(args.items)
    decisions(Project.objects.get(pk=ctx["project"]), ctx["manager"])
    stats_job(Project.objects.get(pk=ctx["project"]), ctx["manager"])
    client = Client()
    client.force_login(ctx["manager"])
    p = f"/projects/{ctx['project']}"
    pages = [
        ("Projects list", "/"),
        ("Project page", f"{p}/"),
        ("Settings", f"{p}/settings/"),
        ("People", f"{p}/people/"),
        ("Operations", f"{p}/operations/"),
        ("Export page", f"{p}/export/"),
        ("Data browser, first page", f"{p}/items/"),
        ("Data browser, deep page (after=)", f"{p}/items/?after={ctx['deep']}"),
        ("Data browser, previous page (before=)", f"{p}/items/?before={ctx['deep']}"),
        ("Data browser, status: needs answers", f"{p}/items/?status=needs_answers"),
        ("Data browser, status: gold", f"{p}/items/?status=gold"),
        ("Data browser, status: resolved", f"{p}/items/?status=resolved"),
        ("Data browser, class + agreement ≥ 0.8", f"{p}/items/?class=dent&min_agreement=0.8"),
        ("Data browser, slice camera:C2", f"{p}/items/?slice=camera:C2"),
        ("Data browser, labeler", f"{p}/items/?labeler={ctx['labeler']}"),
        ("Data browser, split test", f"{p}/items/?split=test"),
        ("Data browser, split test, deep page", f"{p}/items/?split=test&after={ctx['deep']}"),
        ("Data browser, split test, previous page (before=)", f"{p}/items/?split=test&before={ctx['deep']}"),
        ("Data browser, search external id", f"{p}/items/?q=phone-0999"),
        ("Data browser, search external id, no match", f"{p}/items/?q=nothing-like-this"),
        ("Export preview", f"{p}/export/?preview=1&split=train:80,dev:10,test:10"),
        ("Export preview, no split", f"{p}/export/?preview=1"),
        ("Data page (input quality)", f"{p}/data/"),
        ("Agreement", f"{p}/agreement/"),
        ("Review queue", f"{p}/review/"),
        ("Review queue, likely wrong first", f"{p}/review/?order=likely_wrong"),
    ]
    print(f"| page ({args.items:,} items) | median ms | worst ms | queries | status |")
    print("| --- | --- | --- | --- | --- |")
    for name, url in pages:
        if args.only.lower() not in name.lower():
            continue
        repeat = 1 if "preview" in url else args.repeat
        median, worst, queries, status = timed(client, url, repeat)
        print(f"| {name} | {median:.0f} | {worst:.0f} | {queries} | {status} |", flush=True)


if __name__ == "__main__":
    main()
