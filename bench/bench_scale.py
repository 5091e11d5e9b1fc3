"""Scale: a project of N answers (N/5 items × 5 answers) built with COPY, then measured end to end.

    .venv/bin/python bench/bench_scale.py --answers 10000000          # build once, then measure
    .venv/bin/python bench/bench_scale.py --answers 100000 --answers 1000000 --answers 10000000

Runs against BENCH_SCALE_DATABASE_URL (default postgres://postgres@localhost:5432/concord_scale), a
database of its own: each size is one project, built once and kept (`--rebuild` builds it anew),
so several sizes share the tables as they would in a real instance. Measures, per size:

1. an agreement run end to end on a Celery worker process (request → succeeded), with the
   worker's peak memory (VmHWM of the solo worker, which runs the task in its own process);
2. `next` and submit-and-next server time (p50/p99 from `Server-Timing`) for 20 labelers on
   items with one open slot each, on the same big project;
3. server time of the project, data, Agreement and review-queue pages (median of 5 loads);
4. a full JSONL export over REST: rows/s and the time to the first byte.

Targets (issue 18): run ≤ 60 s and worker peak ≤ 1.5 GB at 10M answers; next p99 < 30 ms;
submit p99 < 50 ms; pages < 300 ms; export ≥ 200,000 rows/s. The machine's load average is
printed with each figure: measurements on a shared machine say how loaded it was.
"""

import argparse
import asyncio
import io
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._setup import percentile, start_gunicorn, stop_gunicorn  # noqa: E402

DEFAULT_URL = "postgres://postgres@localhost:5432/concord_scale"
CLASSES = ["deep scratch", "shallow scratch", "dent", "none"]  # as bench_labeling submits
ANSWERS_PER_ITEM = 5
LABELER_POOL = 50
OPEN_ITEMS = 20_000  # items given a 6th slot for the next/submit measurement
CHUNK = 250_000


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _copy(cursor, table: str, columns: str, lines) -> None:
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for block in lines:
            copy.write(block)


def _next_ids(cursor, table: str, count: int) -> int:
    """Reserve ``count`` ids of ``table``'s sequence; return the first."""
    cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))")
    first = cursor.fetchone()[0]
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [first + count])
    return first


def build(answers: int, labeler_ids: list[int], manager) -> int:
    """One project of answers/5 items with 5 answers each (80% agree with the item's class)."""
    from django.db import connection

    from labeling.models import ProjectMembership, Role
    from labeling.services.projects import project_create

    items = answers // ANSWERS_PER_ITEM
    project = project_create(
        created_by=manager,
        name=f"scale {answers:,} answers",
        data_type="record",
        label_kind="classes",
        classes=CLASSES,
        overlap=ANSWERS_PER_ITEM,
    )
    ProjectMembership.objects.bulk_create(
        ProjectMembership(project=project, user_id=uid, role=Role.LABELER) for uid in labeler_ids
    )
    version = project.schema_version.id
    rng = np.random.default_rng(answers)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        item0 = _next_ids(cursor, "labeling_item", items)
        assign0 = _next_ids(cursor, "labeling_assignment", items * ANSWERS_PER_ITEM)
        note0 = _next_ids(cursor, "labeling_annotation", items * ANSWERS_PER_ITEM)

        def item_lines():
            for lo in range(0, items, CHUNK):
                out = io.StringIO()
                for n in range(lo, min(items, lo + CHUNK)):
                    out.write(
                        f'{item0 + n}\t{project.id}\trecord\ts{n}\t{{"text": "row {n}"}}\t\t\t\t\t\t{{}}\t'
                        f'{{"slice": "s{n % 5}"}}\t5\t5\tf\t\\N\tnow\t\\N\tf\n'
                    )
                yield out.getvalue()

        _copy(
            cursor,
            "labeling_item",
            "id, project_id, kind, external_id, data, media, content_hash, original_filename, thumbnail, "
            "waveform, quality, metadata, target, slots_taken, is_gold, gold_value, created_at, confidence, "
            "disagrees_after_max",
            item_lines(),
        )

        def pairs(lo: int, hi: int):
            n = np.arange(lo, hi)
            item = np.repeat(n, ANSWERS_PER_ITEM)
            k = np.tile(np.arange(ANSWERS_PER_ITEM), hi - lo)
            labeler = np.asarray(labeler_ids)[(item + 7 * k) % LABELER_POOL]  # 5 distinct labelers
            truth = item % len(CLASSES)
            wrong = rng.random(len(item)) > 0.8
            value = np.where(wrong, (truth + rng.integers(1, len(CLASSES), len(item))) % len(CLASSES), truth)
            return item * ANSWERS_PER_ITEM + k, item, labeler, value

        def assignment_lines():
            for lo in range(0, items, CHUNK // ANSWERS_PER_ITEM):
                row, item, labeler, _ = pairs(lo, min(items, lo + CHUNK // ANSWERS_PER_ITEM))
                yield "".join(
                    f"{assign0 + r}\tsubmitted\t\\N\tnow\tnow\t{u}\t{item0 + i}\t{project.id}\n"
                    for r, i, u in zip(row.tolist(), item.tolist(), labeler.tolist(), strict=True)
                )

        _copy(
            cursor,
            "labeling_assignment",
            "id, status, lease_expires_at, created_at, updated_at, labeler_id, item_id, project_id",
            assignment_lines(),
        )
        rng = np.random.default_rng(answers)  # the same draws again: values match their rows

        def annotation_lines():
            for lo in range(0, items, CHUNK // ANSWERS_PER_ITEM):
                row, item, labeler, value = pairs(lo, min(items, lo + CHUNK // ANSWERS_PER_ITEM))
                yield "".join(
                    f'{note0 + r}\t"{CLASSES[v]}"\t\t\t1000\tt\t\tlabeler\tnow\t{u}\t\\N\t{assign0 + r}\t'
                    f"{item0 + i}\t{version}\n"
                    for r, i, u, v in zip(
                        row.tolist(), item.tolist(), labeler.tolist(), value.tolist(), strict=True
                    )
                )

        _copy(
            cursor,
            "labeling_annotation",
            "id, value, skip_reason, comment, time_spent_ms, is_current, idempotency_key, source, created_at, "
            "labeler_id, supersedes_id, assignment_id, item_id, schema_version_id",
            annotation_lines(),
        )
        # A 6th slot on some items: the pool `next` searches on this big project.
        cursor.execute(
            "UPDATE labeling_item SET target = 6 WHERE project_id = %s AND id < %s",
            [project.id, item0 + OPEN_ITEMS],
        )
        cursor.execute("ANALYZE labeling_item; ANALYZE labeling_assignment; ANALYZE labeling_annotation")
    print(
        f"built {answers:,} answers ({items:,} items) in {time.perf_counter() - started:.0f} s (load {load()})"
    )
    return project.id


def start_worker(env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "scale@%h"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_run(project_id: int, manager, worker: subprocess.Popen) -> tuple[float, float, str]:
    from consistency.models import AgreementRun
    from consistency.services.agreement_runs import agreement_run_request
    from labeling.models import Project

    started = time.perf_counter()
    run = agreement_run_request(project=Project.objects.get(pk=project_id), requested_by=manager)
    while True:
        run.refresh_from_db()
        if run.status in {"succeeded", "failed"}:
            break
        time.sleep(0.5)
    elapsed = time.perf_counter() - started
    assert run.status == "succeeded", run.error
    assert AgreementRun.objects.filter(pk=run.pk, status="succeeded").exists()
    return elapsed, peak_mb(worker.pid), load()


def measure_labeling(base: str, project_id: int, tokens: list[str], seconds: float) -> dict:
    """Two phases as in bench_labeling: `next` then submit (?next=false), then submit-and-next."""
    from bench.bench_labeling import run_phase

    out: dict = {"errors": {}}
    for with_next in (False, True):
        recorder, _ = asyncio.run(run_phase(base, project_id, tokens, seconds / 2, with_next=with_next))
        for kind, samples in recorder.samples.items():
            if with_next and kind == "next":
                continue  # only each labeler's first item: measured in the first phase
            server = [s for _, s in samples]
            out[kind] = (len(server), percentile(server, 50), percentile(server, 99))
        for what, n in recorder.errors.items():
            out["errors"][what] = out["errors"].get(what, 0) + n
    return out


def measure_pages(base: str, project_id: int, cookie: str) -> dict[str, float | str]:
    pages = {
        "project": f"/projects/{project_id}/",
        "data": f"/projects/{project_id}/data/",
        "agreement": f"/projects/{project_id}/agreement/",
        "review queue": f"/projects/{project_id}/review/",
    }
    out: dict[str, float | str] = {}
    for name, path in pages.items():
        times = []
        for _ in range(5):
            request = urllib.request.Request(base + path, headers={"Cookie": cookie})
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    response.read()
                    times.append(float(response.headers["Server-Timing"].split("dur=")[1]))
            except urllib.error.HTTPError as error:  # e.g. gunicorn's 30 s timeout: say so, go on
                out[name] = f"HTTP {error.code}"
                break
        else:
            out[name] = statistics.median(times)
    return out


def measure_export(base: str, project_id: int, token: str) -> tuple[int, float, float]:
    request = urllib.request.Request(
        f"{base}/api/projects/{project_id}/export/?format=jsonl", headers={"Authorization": f"Token {token}"}
    )
    started = time.perf_counter()
    rows = 0
    first = None
    with urllib.request.urlopen(request, timeout=600) as response:
        while chunk := response.read(1 << 20):
            first = first or time.perf_counter() - started
            rows += chunk.count(b"\n")
    return rows, time.perf_counter() - started, first or 0.0


def _drop_database(url: str) -> None:
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    with psycopg.connect(
        host=cfg["HOST"], port=cfg["PORT"] or 5432, user=cfg["USER"], dbname="postgres", autocommit=True
    ) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--answers", type=int, action="append", help="answers in the project (repeatable)")
    parser.add_argument("--rebuild", action="store_true", help="drop the scale database and build anew")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--seconds", type=float, default=20, help="length of the next/submit phases")
    parser.add_argument(
        "--measure",
        default="run,labeling,pages,export",
        help="what to measure, comma-separated (run, labeling, pages, export); exports need a run",
    )
    args = parser.parse_args()
    sizes = args.answers or [10_000_000]
    wanted = set(args.measure.split(","))

    url = os.environ.get("BENCH_SCALE_DATABASE_URL", DEFAULT_URL)
    redis_url = os.environ.get("REDIS_URL") or "redis://localhost:6379/0"
    os.environ["BENCH_DATABASE_URL"] = url
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("CONCORD_VAR_DIR", str(ROOT / "var" / "bench-scale"))
    from bench._setup import django_setup

    if args.rebuild:
        _drop_database(url)
    django_setup(url)
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from labeling.models import Project, ProjectMembership, Role

    users = get_user_model()
    manager, _ = users.objects.get_or_create(username="scale-manager", defaults={"is_staff": True})
    labeler_ids = []
    for i in range(LABELER_POOL):
        labeler_ids.append(users.objects.get_or_create(username=f"scale-labeler-{i}")[0].id)
    projects = {}
    for answers in sizes:
        name = f"scale {answers:,} answers"
        existing = Project.objects.filter(name=name).first()
        projects[answers] = existing.id if existing else build(answers, labeler_ids, manager)
    if args.build_only:
        return

    # Static files once, so production settings can render pages (as `collectstatic` in the Dockerfile).
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench-only-secret",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "SECURE_SSL_REDIRECT": "false",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    manager_token = Token.objects.get_or_create(user=manager)[0].key
    browser = Client()
    browser.force_login(manager)
    cookie = f"sessionid={browser.cookies['sessionid'].value}"

    worker = start_worker(env)
    server, base = start_gunicorn(
        workers=2, extra_env={"REDIS_URL": redis_url, "CONCORD_VAR_DIR": env["CONCORD_VAR_DIR"]}
    )
    try:
        time.sleep(3)  # the worker connects to the broker
        for answers, project_id in projects.items():
            print(f"\n## {answers:,} answers (project {project_id}); load at start {load()}")
            if "run" in wanted:
                seconds, peak, at = measure_run(project_id, manager, worker)
                print(f"agreement run on the worker: {seconds:.1f} s, worker peak {peak:.0f} MB (load {at})")
            if "labeling" in wanted:
                new = [
                    users.objects.get_or_create(username=f"scale-next-{project_id}-{i}")[0] for i in range(20)
                ]
                ProjectMembership.objects.bulk_create(
                    [ProjectMembership(project_id=project_id, user=u, role=Role.LABELER) for u in new],
                    ignore_conflicts=True,
                )
                tokens = [Token.objects.get_or_create(user=u)[0].key for u in new]
                figures = measure_labeling(base, project_id, tokens, args.seconds)
                for kind, value in figures.items():
                    if kind != "errors":
                        print(
                            f"{kind}: {value[0]:,} calls, server p50 {value[1]:.1f} ms, p99 {value[2]:.1f} ms"
                        )
                print(f"labeling errors: {figures['errors'] or 'none'} (load {load()})")
            if "pages" in wanted:
                for page, ms in measure_pages(base, project_id, cookie).items():
                    shown = f"{ms:.0f} ms server time (median of 5)" if isinstance(ms, float) else ms
                    print(f"{page} page: {shown}")
            if "export" in wanted:
                rows, total, first = measure_export(base, project_id, manager_token)
                print(
                    f"JSONL export: {rows:,} rows in {total:.1f} s = {rows / total:,.0f} rows/s, "
                    f"first byte {first * 1000:.0f} ms (load {load()})"
                )
    finally:
        worker.terminate()
        stop_gunicorn(server)
        worker.wait(timeout=30)


if __name__ == "__main__":
    main()
