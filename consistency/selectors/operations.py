"""The labeling system's own monitoring: throughput, queue depth, speed, skips, consensus
coverage, jobs, agreement over time, and alarms when a threshold is crossed."""

import statistics
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from consistency.models import AgreementRun, ItemResult, RunStatus
from consistency.report import report_from_json
from consistency.selectors.runs import run_history, run_latest
from core.jobs.models import JobStatus
from labeling.models import Annotation, Item, JobKind, Project
from labeling.selectors.projects import DEFAULT_ALARMS

# Up to this many answers the page aggregates them at each request (a few ms); above it, the
# answer figures come from the last statistics job (3,000,000 answers take seconds to aggregate).
LIVE_ANSWERS = 20_000


def operations_summary(*, project: Project, hours: int = 24) -> dict:
    """The Operations page. The answer figures (per hour, per labeler, totals, medians, consensus
    coverage) are live on small projects and the statistics job's on large ones, with its time."""
    run = run_latest(project=project)
    kept = None if _answers_at_most(project, LIVE_ANSWERS) else _kept_figures(project)
    figures = operations_figures(project=project, hours=hours, run=run) if kept is None else kept["figures"]
    open_slots = Item.objects.filter(project=project, is_gold=False, slots_taken__lt=F("target")).aggregate(
        items=Count("pk"), slots=Sum(F("target") - F("slots_taken"))
    )
    items = Item.objects.filter(project=project).count()
    skip_rate = figures["skipped"] / figures["answers"] if figures["answers"] else 0.0
    history = run_history(project=project)
    jobs = list(project.jobs.order_by("-created_at")[:15])
    runs = list(AgreementRun.objects.filter(project=project).order_by("-created_at")[:10])
    thresholds = {**DEFAULT_ALARMS, **(project.alarms or {})}
    return {
        "hours": figures["hours"],
        "per_hour": figures["per_hour"],
        "peak_hour": max((row["n"] for row in figures["per_hour"]), default=0),
        "per_labeler": figures["per_labeler"],
        "answers": figures["answers"],
        "skip_rate": skip_rate,
        "median_seconds": figures["median_seconds"],
        "queue_items": open_slots["items"] or 0,
        "queue_slots": open_slots["slots"] or 0,
        "consensus_share": figures["with_consensus"] / items if items else 0.0,
        "jobs": jobs,
        "runs": runs,
        "failed_jobs": sum(j.status == "failed" for j in jobs)
        + sum(r.status == RunStatus.FAILED for r in runs),
        "history": history,
        "thresholds": thresholds,
        "alarms": _alarms(run, history, skip_rate, thresholds),
        "per_item": figures["per_item"],
        "live": kept is None,
        "figures_job": kept["job"] if kept else None,
    }


def operations_figures(
    *, project: Project, hours: int = 24, run: AgreementRun | None = None, as_json: bool = False
) -> dict:
    """The figures that read every answer or every item: answers per hour and per labeler over
    the last ``hours``, current answers and skips, median times, items with consensus in ``run``,
    answers per item.
    ``as_json``: hours as ISO text, for the statistics job's result."""
    since = timezone.now() - timedelta(hours=hours)
    recent = Annotation.objects.filter(item__project=project, created_at__gte=since)
    per_hour = list(
        recent.annotate(hour=TruncHour("created_at")).values("hour").annotate(n=Count("pk")).order_by("hour")
    )
    overall_median, medians = answer_time_medians(project=project, since=since)
    per_labeler = [
        {**row, "median_seconds": medians.get(row["labeler_id"])}
        for row in recent.values("labeler_id", "labeler__username")
        .annotate(n=Count("pk"), skipped=Count("pk", filter=~Q(skip_reason="")))
        .order_by("-n")[:50]
    ]
    totals = Annotation.objects.filter(item__project=project, is_current=True).aggregate(
        answers=Count("pk"), skipped=Count("pk", filter=~Q(skip_reason=""))
    )
    with_consensus = ItemResult.objects.of_run(run).exclude(consensus=None).count() if run else 0
    if as_json:
        per_hour = [{"hour": row["hour"].isoformat(), "n": row["n"]} for row in per_hour]
    return {
        "hours": hours,
        "per_hour": per_hour,
        "per_labeler": per_labeler,
        "answers": totals["answers"],
        "skipped": totals["skipped"],
        "median_seconds": overall_median,
        "with_consensus": with_consensus,
        "run_id": run.id if run else None,
        "per_item": answers_per_item(project=project),
    }


def _answers_at_most(project: Project, limit: int) -> bool:
    """Whether the project holds at most ``limit`` answers: a count bounded by LIMIT, so it
    stops reading at ``limit + 1`` whatever the project's size."""
    bounded = Annotation.objects.filter(item__project=project).values("pk")[: limit + 1]
    return bounded.count() <= limit


def _kept_figures(project: Project) -> dict:
    """The operations figures of the last statistics job that computed them, hours parsed back."""
    job = (
        project.jobs.filter(
            kind=JobKind.PROJECT_STATS, status=JobStatus.SUCCEEDED, result__has_key="operations"
        )
        .order_by("-finished_at")
        .only("id", "result", "finished_at")
        .first()
    )
    if job is None:
        per_item = {"policy": project.overlap_policy, "k": project.overlap, "items_done": 0, "mean": None}
        per_item |= {"distribution": [], "saved": 0, "saved_share": None, "flagged": 0}
        return {"job": None, "figures": {**_EMPTY_FIGURES, "per_item": per_item}}
    assert job.result is not None  # result__has_key above
    figures = dict(job.result["operations"])
    figures["per_hour"] = [
        {"hour": datetime.fromisoformat(row["hour"]), "n": row["n"]} for row in figures["per_hour"]
    ]
    return {"job": job, "figures": figures}


_EMPTY_FIGURES = {
    "hours": 24,
    "per_hour": [],
    "per_labeler": [],
    "answers": 0,
    "skipped": 0,
    "median_seconds": None,
    "with_consensus": 0,
    "run_id": None,
}


def answer_time_medians(*, project: Project, since=None) -> tuple[float | None, dict[int, float]]:
    """Median seconds per answer (as the browser measured it), for the project and per labeler;
    current answers only, since ``since`` if given. PostgreSQL computes both in one query."""
    if connection.vendor == "postgresql":
        sql = (
            "SELECT a.labeler_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY a.time_spent_ms) "
            "FROM labeling_annotation a JOIN labeling_item i ON i.id = a.item_id "
            "WHERE i.project_id = %s AND a.is_current AND a.time_spent_ms > 0"
            + (" AND a.created_at >= %s" if since else "")
            + " GROUP BY GROUPING SETS ((a.labeler_id), ())"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [project.id, since] if since else [project.id])
            rows = cursor.fetchall()
        # The grand total (the () grouping set) comes back with a NULL labeler, and a NULL
        # median when there is no timed answer.
        medians = {labeler: value / 1000 for labeler, value in rows if labeler is not None}
        overall = next(
            (value / 1000 for labeler, value in rows if labeler is None and value is not None), None
        )
        return overall, medians
    answers = Annotation.objects.filter(item__project=project, is_current=True, time_spent_ms__gt=0)
    if since:
        answers = answers.filter(created_at__gte=since)
    times: dict[int, list[int]] = {}
    for labeler, ms in answers.values_list("labeler_id", "time_spent_ms").iterator():
        times.setdefault(labeler, []).append(ms)
    everything = sorted(ms for values in times.values() for ms in values)
    overall = statistics.median(everything) / 1000 if everything else None
    return overall, {labeler: statistics.median(values) / 1000 for labeler, values in times.items()}


def labeler_answer_counts(*, project: Project) -> dict[int, Any]:
    """labeler id → ``{"labeler_id", "total", "skipped"}``: their current answers, skips included."""
    return {
        row["labeler_id"]: row
        for row in Annotation.objects.filter(item__project=project, is_current=True)
        .values("labeler_id")
        .annotate(total=Count("pk"), skipped=Count("pk", filter=~Q(skip_reason="")))
    }


def _alarms(run, history: list[dict], skip_rate: float, thresholds: dict) -> list[str]:
    alarms = []
    values = [h["value"] for h in history if h["value"] is not None]
    if len(values) >= 2 and values[-2] - values[-1] > thresholds["agreement_drop"]:
        alarms.append(
            f"Agreement dropped by {values[-2] - values[-1]:.3f} between the last two runs "
            f"(threshold {thresholds['agreement_drop']})."
        )
    for row in report_from_json(run.report if run else None).labelers:
        rate = row.get("loo_rate")
        if rate is not None and rate < thresholds["min_labeler_hlp"]:
            name = row.get("username", row["labeler_id"])
            alarms.append(f"{name}'s HLP is {rate:.2f}, under {thresholds['min_labeler_hlp']}.")
    if skip_rate > thresholds["max_skip_rate"]:
        alarms.append(f"Skip rate {skip_rate:.0%} is over {thresholds['max_skip_rate']:.0%}.")
    return alarms


def answers_per_item(*, project: Project) -> dict:
    """How many answers items took: mean and distribution over the items that are done (all
    their slots taken, gold left out), and — under adaptive overlap — the answers saved against
    the fixed k (``overlap``) and the items flagged after max answers. One GROUP BY on items."""
    done = Item.objects.filter(project=project, is_gold=False, slots_taken__gt=0)
    done = done.filter(slots_taken__gte=F("target"))
    rows = list(done.values("slots_taken").annotate(n=Count("pk")).order_by("slots_taken"))
    items = sum(r["n"] for r in rows)
    answers = sum(r["slots_taken"] * r["n"] for r in rows)
    k = project.overlap
    return {
        "policy": project.overlap_policy,
        "k": k,
        "items_done": items,
        "mean": answers / items if items else None,
        "distribution": [
            {"answers": r["slots_taken"], "items": r["n"], "share": r["n"] / items} for r in rows
        ],
        "saved": k * items - answers,
        "saved_share": (k * items - answers) / (k * items) if items else None,
        "flagged": Item.objects.filter(project=project, disagrees_after_max=True).count()
        if project.is_adaptive
        else 0,
    }


def operations_figures_latest(project: Project) -> dict:
    """The Operations page's figures against the latest run, as JSON: the statistics job's
    "operations" section (registered in ConsistencyConfig.ready())."""
    return operations_figures(project=project, run=run_latest(project=project), as_json=True)
