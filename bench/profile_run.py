"""One agreement run in this process, with its phases timed (and profiled on request), on a
classes project of N items × 3 answers in the benchmark database.

    .venv/bin/python bench/profile_run.py --items 1000000 --setup   # build the project once
    .venv/bin/python bench/profile_run.py                           # one run on it, phases timed
    .venv/bin/python bench/profile_run.py --profile run.html        # the same under pyinstrument

The project is the one ``bench_autorun.py`` builds (without its first run); later runs reuse
it, so runs before and after a change can be compared row by row (their ids are printed).
pyinstrument is not a dependency of the project: install it in your .venv to profile.
"""

import argparse
import os
import resource
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._setup import django_setup
from bench.bench_autorun import build

PHASES: dict[str, float] = {}
SPANS: list[tuple[str, str, float, float]] = []  # (phase, thread, start, end) from the run's start
ORIGIN = [0.0]
PEAKS: dict[str, float] = {}  # the process's peak RSS (MB) when the phase ended


@contextmanager
def timed(name: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        ended = time.perf_counter()
        PHASES[name] = PHASES.get(name, 0.0) + ended - started
        thread = threading.current_thread().name
        SPANS.append((name, thread, started - ORIGIN[0], ended - ORIGIN[0]))
        PEAKS[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wrap(module, name: str, phase: str) -> None:
    original = getattr(module, name)

    def timed_call(*args, **kwargs):
        with timed(phase):
            return original(*args, **kwargs)

    setattr(module, name, timed_call)


def _resolve_one(project) -> None:
    """A reviewer resolves an item nobody reviewed yet (it becomes gold), as before a debounced run."""
    from django.contrib.auth import get_user_model

    from consistency.models import Review
    from consistency.services.reviews import review_act
    from labeling.models import Item

    item = (
        Item.objects.filter(project=project)
        .exclude(id__in=Review.objects.values("item_id"))
        .order_by("id")[0]
    )
    actor = get_user_model().objects.filter(is_staff=True).first()
    review_act(project=project, item=item, actor=actor, action="resolve", expected_version=0, value="1")


def run_once(
    profile: str | None, project_name: str = "bench run", trigger: str = "manual", resolve: bool = False
) -> None:
    from consistency.models import AgreementRun
    from consistency.services import agreement_runs
    from consistency.services.measure import categorical, publish
    from labeling.models import Project

    wrap(agreement_runs, "annotations_frame", "read answers")
    wrap(agreement_runs, "measure_project", "metrics")
    wrap(agreement_runs, "measure_prelabels", "prelabels")
    wrap(agreement_runs, "_publish", "publish")
    # The load runs on a thread beside the report's sections (publish.StagedResults): its time
    # overlaps the metrics below; "publish" is what is left of it after the report is done.
    wrap(publish, "_partition_load", "results load (beside the report)")
    wrap(publish, "tails_of", "results load: distinct tails")
    wrap(publish, "tails_insert", "results load: INSERT")
    for name in (
        "_dawid_skene",
        "run_label_quality",
        "item_results",
        "report_alpha_interval",
        "_labeler_pairs",
        "_labelers",
        "_slices",
        "_versions",
        "hlp_categorical",
        "hlp_section_categorical",
        "value_counts",
    ):
        wrap(categorical, name, f"metrics: {name}")
    project = Project.objects.get(name=project_name)
    if resolve:
        _resolve_one(project)
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version, trigger=trigger)
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    started = time.perf_counter()
    ORIGIN[0] = started
    samples: list[tuple[float, float]] = []  # (seconds from the start, RSS MB), every 50 ms
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.wait(0.05):
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    samples.append((time.perf_counter() - started, int(line.split()[1]) / 1024))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    busy_before, own_before = _machine_busy(), resource.getrusage(resource.RUSAGE_SELF)
    agreement_runs.agreement_run_compute(run_id=run.id)
    total = time.perf_counter() - started
    sampling.set()
    busy, own = _machine_busy() - busy_before, resource.getrusage(resource.RUSAGE_SELF)
    own_cpu = own.ru_utime + own.ru_stime - own_before.ru_utime - own_before.ru_stime
    if profiler is not None:
        profiler.stop()
        Path(profile).write_text(profiler.output_html())
        Path(profile).with_suffix(".txt").write_text(profiler.output_text(unicode=True, show_all=False))
    run.refresh_from_db()
    print(f"run {run.id}: {run.status} in {total:.1f} s (duration {run.duration_seconds:.1f} s) {run.error}")
    for name, seconds in PHASES.items():
        print(f"  {name:40s} {seconds:6.1f} s   peak RSS by its end {PEAKS[name]:7,.0f} MB")
    if samples:
        at, most = max(samples, key=lambda sample: sample[1])
        print(f"  RSS highest ({most:,.0f} MB) at {at:.1f} s")
    print("  timeline (seconds from the run's start, by thread):")
    for name, thread, start, end in sorted(SPANS, key=lambda span: span[2]):
        print(f"    {start:5.1f} → {end:5.1f}  {thread[:20]:20s} {name}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of this process {peak:,.0f} MB")
    print(
        f"  CPU: this process {own_cpu:.1f} s, the machine {busy:.1f} s (PostgreSQL and others: "
        f"{busy - own_cpu:.1f} s) in {total:.1f} s on {os.cpu_count()} cores"
    )


def _machine_busy() -> float:
    """Seconds of CPU the machine spent busy since boot (all cores; /proc/stat, Linux)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--setup", action="store_true", help="build the project (drops every project)")
    parser.add_argument("--profile", help="write a pyinstrument profile here (.html and .txt)")
    parser.add_argument("--project", default="bench run", help="the project's name (e.g. a scale project)")
    parser.add_argument(
        "--trigger",
        choices=("manual", "auto"),
        default="manual",
        help="auto: as a debounced run, which shares the latest run's results when its answers are equal",
    )
    parser.add_argument(
        "--resolve", action="store_true", help="resolve an item first (a reviewer's decision)"
    )
    args = parser.parse_args()
    from core.memory import allocator_tune

    allocator_tune()  # as the worker does on start (config/celery.py)
    django_setup()
    if args.setup:
        build(args.items, name="bench run")
    run_once(args.profile, args.project, args.trigger, args.resolve)


if __name__ == "__main__":
    main()
