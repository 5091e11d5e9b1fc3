"""Labeling throughput: `next` and submit-and-next with many concurrent labelers on a big project.

    .venv/bin/python bench/bench_labeling.py --items 1000000 --labelers 50 --seconds 30

Sets up a project of N items (k=3) in a dedicated PostgreSQL database (see bench/_setup.py),
serves it with gunicorn, and drives it with one asyncio client per labeler from this process
(so the load generator shares the machine's cores with the server). Two phases:

1. `next` phase: each labeler calls `GET /next/` (a fresh reservation) then submits with
   `?next=false`, so every `next` call really searches the pool and takes a lease;
2. submit-and-next phase: each labeler submits and gets its next item in the same round trip,
   the way the workspace works.

Server time is read from the `Server-Timing` header (request start to response, excluding the
time the request waited for a free gunicorn worker); client latency is measured around each
call. At the end the database is checked: every 2xx submit stored exactly once, no item above k,
no labeler twice on an item.
"""

import argparse
import asyncio
import io
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_setup, dockerfile_threads, percentile, rss_mb, start_gunicorn, stop_gunicorn

CLASSES = ["deep scratch", "shallow scratch", "dent", "none"]


def setup_project(n_items: int, n_labelers: int, *, adaptive: bool = False) -> tuple[int, list[str]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from labeling.models import Project, ProjectMembership, Role
    from labeling.services.projects import project_create

    User = get_user_model()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE labeling_annotation, labeling_assignment, labeling_item, labeling_job, "
            "labeling_labelclass, labeling_labelschemaversion, labeling_projectmembership, labeling_project, "
            "authtoken_token, auth_user CASCADE"
        )
    manager = User.objects.create(username="bench-manager", is_staff=True)
    policy = {"overlap_policy": "adaptive", "min_answers": 2, "max_answers": 5} if adaptive else {}
    project = project_create(
        created_by=manager,
        name="bench",
        data_type="image",
        label_kind="classes",
        classes=CLASSES,
        overlap=3,
        **policy,
    )
    target = project.initial_target
    started = time.perf_counter()
    buffer = io.StringIO()
    for i in range(n_items):
        buffer.write(
            f'{project.id}\timage\tb{i}\t{{}}\t\t\t\t\t\t{{}}\t{{"slice": "s{i % 7}"}}\t{target}\t0\tf\t\\N\tnow\n'
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        copy_sql = (
            "COPY labeling_item (project_id, kind, external_id, data, media, content_hash, original_filename, "
            "thumbnail, waveform, quality, metadata, target, slots_taken, is_gold, gold_value, created_at) "
            "FROM STDIN"
        )
        with cursor.cursor.copy(copy_sql) as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)
        cursor.execute("ANALYZE labeling_item")
    print(f"setup: {n_items:,} items copied in {time.perf_counter() - started:.1f} s")
    labelers = User.objects.bulk_create(User(username=f"bench-labeler-{i}") for i in range(n_labelers))
    ProjectMembership.objects.bulk_create(
        ProjectMembership(project=project, user=u, role=Role.LABELER) for u in labelers
    )
    tokens = [Token.objects.create(user=u).key for u in labelers]
    if adaptive:  # the submit path reads a fit and its labelers' estimates, as in production
        from labeling.services.adaptive import labeler_fit_store

        k = len(CLASSES)
        matrix = [[0.7 if t == g else 0.1 for g in range(k)] for t in range(k)]
        labeler_fit_store(
            project=project,
            schema_version=project.schema_version,
            classes=CLASSES,
            priors=[1 / k] * k,
            confusion={u.id: matrix for u in labelers},
            answers={u.id: 1000 for u in labelers},
            typical=matrix,
        )
    return Project.objects.get(pk=project.id).id, tokens


class Recorder:
    def __init__(self):
        self.samples: dict[str, list[tuple[float, float]]] = {}
        self.errors: dict[str, int] = {}
        self.submits_ok = 0

    def add(self, kind: str, client_ms: float, response) -> None:
        timing = response.headers.get("Server-Timing", "app;dur=nan")
        server_ms = float(timing.split("dur=")[1])
        self.samples.setdefault(kind, []).append((client_ms, server_ms))

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def labeler_loop(session, base, project_id, token, deadline, recorder, *, with_next: bool, seed: int):
    import aiohttp

    headers = {"Authorization": f"Token {token}"}
    rng = random.Random(seed)
    current = None
    while time.monotonic() < deadline:
        if current is None:
            started = time.perf_counter()
            async with session.get(f"{base}/api/projects/{project_id}/next/", headers=headers) as response:
                body = await response.json() if response.status == 200 else None
                recorder.add("next", (time.perf_counter() - started) * 1000, response)
                if response.status == 204:
                    return
                if response.status != 200:
                    recorder.error(f"next {response.status}")
                    continue
            current = body["id"]
        url = f"{base}/api/items/{current}/annotations/" + ("" if with_next else "?next=false")
        payload = {"value": rng.choice(CLASSES), "time_spent_ms": rng.randint(800, 5000)}
        started = time.perf_counter()
        try:
            async with session.post(url, json=payload, headers=headers) as response:
                body = await response.json()
                recorder.add(
                    "submit+next" if with_next else "submit", (time.perf_counter() - started) * 1000, response
                )
                if response.status in (200, 201):
                    recorder.submits_ok += response.status == 201
                    current = body["next"]["id"] if with_next and body["next"] else None
                else:
                    recorder.error(f"submit {response.status}")
                    current = None
        except aiohttp.ClientError as exc:
            recorder.error(type(exc).__name__)
            current = None


async def run_phase(base, project_id, tokens, seconds, *, with_next: bool) -> tuple[Recorder, float]:
    import aiohttp

    recorder = Recorder()
    connector = aiohttp.TCPConnector(limit=len(tokens) + 5)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.monotonic() + seconds
        started = time.perf_counter()
        await asyncio.gather(
            *(
                labeler_loop(session, base, project_id, t, deadline, recorder, with_next=with_next, seed=i)
                for i, t in enumerate(tokens)
            )
        )
        return recorder, time.perf_counter() - started


def summarize(name: str, recorder: Recorder, elapsed: float) -> list[str]:
    lines = []
    for kind, samples in recorder.samples.items():
        client = [c for c, _ in samples]
        server = [s for _, s in samples]
        lines.append(
            f"| {name} | {kind} | {len(samples):,} | {percentile(server, 50):.1f} | {percentile(server, 99):.1f} "
            f"| {percentile(client, 50):.1f} | {percentile(client, 99):.1f} |"
        )
    lines.append(
        f"| {name} | annotations stored | {recorder.submits_ok:,} in {elapsed:.1f} s "
        f"= **{recorder.submits_ok / elapsed:.0f}/s** | errors: {sum(recorder.errors.values())} {recorder.errors or ''} | | | |"
    )
    return lines


def check_invariants(project_id: int, expected_annotations: int) -> list[str]:
    from django.db.models import Count, F

    from labeling.models import Annotation, Item

    stored = Annotation.objects.filter(item__project_id=project_id).count()
    over_k = Item.objects.filter(project_id=project_id, slots_taken__gt=F("target")).count()
    per_item_over = (
        Annotation.objects.filter(item__project_id=project_id, is_current=True)
        .values("item", "item__target")
        .annotate(n=Count("pk"))
        .filter(n__gt=F("item__target"))
        .count()
    )
    doubles = (
        Annotation.objects.filter(item__project_id=project_id)
        .values("item", "labeler")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    ok = stored == expected_annotations and over_k == 0 and per_item_over == 0 and doubles == 0
    return [
        f"invariants: 2xx submits {expected_annotations:,}, annotations stored {stored:,}, items above k: "
        f"{over_k + per_item_over}, labeler twice on an item: {doubles} → {'OK' if ok else 'VIOLATED'}"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--labelers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument(
        "--threads", type=int, default=None, help="threads per gunicorn worker (default: the Dockerfile's)"
    )
    parser.add_argument(
        "--policy", choices=["fixed", "adaptive"], default="fixed", help="adaptive: min 2, max 5 answers"
    )
    args = parser.parse_args()

    django_setup()
    project_id, tokens = setup_project(args.items, args.labelers, adaptive=args.policy == "adaptive")
    args.threads = dockerfile_threads() if args.threads is None else args.threads
    server, base = start_gunicorn(workers=args.workers, threads=args.threads)
    try:
        print(
            f"gunicorn: {args.workers} workers × {args.threads} threads; {args.labelers} labelers; {args.policy}; "
            f"{args.items:,} items; {args.seconds:.0f} s per phase"
        )
        next_phase, next_elapsed = asyncio.run(
            run_phase(base, project_id, tokens, args.seconds, with_next=False)
        )
        loop_phase, loop_elapsed = asyncio.run(
            run_phase(base, project_id, tokens, args.seconds, with_next=True)
        )
        rss = rss_mb(server.pid)
    finally:
        stop_gunicorn(server)
    print("\n| phase | call | requests | server p50 ms | server p99 ms | client p50 ms | client p99 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for line in summarize("next", next_phase, next_elapsed) + summarize(
        "submit-and-next", loop_phase, loop_elapsed
    ):
        print(line)
    print(f"\ngunicorn master RSS after the run: {rss:.0f} MB")
    for line in check_invariants(project_id, next_phase.submits_ok + loop_phase.submits_ok):
        print(line)


if __name__ == "__main__":
    main()
