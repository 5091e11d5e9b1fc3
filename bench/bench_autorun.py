"""Fresh numbers without a manual run: from a reviewer's resolution to the automatic agreement run
having landed, on N items × 3 answers.

    .venv/bin/python bench/bench_autorun.py --items 1000000
    .venv/bin/python bench/bench_autorun.py --reuse    # again, on the project built before
    .venv/bin/python bench/bench_autorun.py --reuse --change answer   # an answer changes instead

Sets up a classes project (N items, three labelers' answers each, one finished run) in the
benchmark database, starts a Celery worker on Redis (`BENCH_REDIS_URL`, default
redis://localhost:6379/14), resolves an item through the review service (``--change answer``:
changes one labeler's answer on an item and asks for a run, as beat does once a project's
``auto_run_every`` new answers arrived), and waits for the debounced run (quiet period
``--quiet`` seconds) to succeed. Prints the time from the last change to the run's end, the quiet
period, how long the run itself took, and whether it shared the previous run's per-item results
(a resolution changes no answer: ``consistency/services/measure/inputs.py``) or computed its own.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import ROOT, bench_database_url, django_setup


def build(items: int, *, name: str = "bench autorun"):
    """A classes project of ``items`` items × 3 answers (every project is dropped first):
    (project, manager)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from labeling.models import ProjectMembership, Role
    from labeling.services.projects import project_create
    from tests.bulk import answers_insert, items_insert

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE labeling_project, authtoken_token, auth_user CASCADE")
    users = get_user_model().objects
    manager = users.create(username="bench-manager", is_staff=True)
    classes = ["1", "0", "borderline"]
    project = project_create(
        created_by=manager, name=name, data_type="record", label_kind="classes", classes=classes
    )
    labelers = []
    for index in range(3):
        user = users.create(username=f"bench-labeler-{index}")
        ProjectMembership.objects.create(project=project, user=user, role=Role.LABELER)
        labelers.append(user.id)
    started = time.perf_counter()
    items_insert(project=project, count=items)
    answers_insert(project=project, labeler_ids=labelers, classes=classes)
    print(f"setup: {items:,} items × 3 answers in {time.perf_counter() - started:.1f} s")
    return project, manager


def setup(items: int):
    from consistency.models import AgreementRun
    from consistency.services.agreement_runs import agreement_run_compute

    project, manager = build(items)
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    started = time.perf_counter()
    agreement_run_compute(run_id=run.id)
    print(f"first run (in this process): {time.perf_counter() - started:.1f} s")
    return project, manager


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--quiet", type=int, default=2, help="CONCORD_AUTORUN_QUIET_SECONDS")
    parser.add_argument("--reuse", action="store_true", help="the project an earlier invocation built")
    parser.add_argument("--change", choices=("resolve", "answer"), default="resolve")
    args = parser.parse_args()
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://localhost:6379/14")
    os.environ["REDIS_URL"] = redis_url
    os.environ["CONCORD_AUTORUN_QUIET_SECONDS"] = str(args.quiet)
    django_setup()
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    if args.reuse:
        from django.contrib.auth import get_user_model

        from labeling.models import Project

        project = Project.objects.get(name="bench autorun")
        manager = get_user_model().objects.get(username="bench-manager")
    else:
        project, manager = setup(args.items)
    env = {
        **os.environ,
        "DATABASE_URL": bench_database_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
    )
    try:
        time.sleep(8)  # the worker connects
        from django.utils import timezone

        from consistency.models import AgreementRun, Review, RunStatus
        from consistency.services.reviews import review_act
        from labeling.models import Item

        # An item nobody reviewed yet (--reuse: earlier invocations resolved the first ones).
        reviewed = Review.objects.values("item_id")
        item = Item.objects.filter(project=project).exclude(id__in=reviewed).order_by("id").first()
        changed = timezone.now()
        if args.change == "resolve":
            review_act(
                project=project, item=item, actor=manager, action="resolve", expected_version=0, value="1"
            )
        else:  # as the bulk loader wrote the answers: one of them now says otherwise
            from consistency.services.autorun import agreement_run_soon
            from labeling.models import Annotation

            answer = Annotation.objects.filter(item=item, is_current=True).order_by("id").first()
            other = "0" if answer.value == "1" else "1"
            Annotation.objects.filter(pk=answer.pk).update(value=other, created_at=timezone.now())
            agreement_run_soon(project_id=project.id)
        last_change = time.time()
        deadline = time.monotonic() + 900
        run = None
        while time.monotonic() < deadline:
            run = AgreementRun.objects.filter(
                project=project, trigger="auto", created_at__gte=changed
            ).first()
            if run is not None and run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED):
                break
            time.sleep(0.2)
        assert run is not None and run.status == RunStatus.SUCCEEDED, run and run.error
        shared = f"shared the results of run id {run.results_run_id}" if run.results_run_id else "own results"
        print(
            f"| {args.items:,} items × 3 answers | {args.change} | quiet {args.quiet} s | run #{run.number} "
            f"started {run.started_at.timestamp() - last_change:.1f} s after the change, took "
            f"{run.duration_seconds:.1f} s | landed {run.finished_at.timestamp() - last_change:.1f} s "
            f"after the last change | {shared} |"
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)


if __name__ == "__main__":
    main()
