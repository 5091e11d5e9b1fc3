"""The projects list's figures, so a manager sees where to go: progress, the latest run's alpha
and its trend, open disagreements. A fixed number of queries for any number of projects, each
answered from an index (the open pool, a run's results by disagreement)."""

from collections.abc import Sequence

from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber

from consistency.models import AgreementRun, ItemResult, ReviewStatus, RunStatus
from labeling.models import Item, Project

CLOSED = (ReviewStatus.RESOLVED, ReviewStatus.LACKS_INFORMATION)
TREND_EPSILON = 0.005


def projects_overview(*, projects: Sequence[Project]) -> dict[int, dict]:
    """Per project id: ``open_items``, ``done_share``, ``alpha``, ``trend`` (the change since
    the run before, or None), ``run_id`` and ``disagreements`` (open ones of the latest run)."""
    ids = [p.id for p in projects]
    if not ids:
        return {}
    open_items = dict(
        Item.objects.filter(project_id__in=ids, is_gold=False, slots_taken__lt=F("target"))
        .values("project_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("project_id", "n")
    )
    ranked = (
        AgreementRun.objects.filter(project_id__in=ids, status=RunStatus.SUCCEEDED)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("project_id")],
                order_by=[F("finished_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=2)
        .values_list("project_id", "id", "headline_alpha", "rank", "results_run_id")
    )
    runs: dict[int, dict] = {}
    stored_under = {}  # latest run → the run its results are stored under (AgreementRun.results_id)
    for project_id, run_id, alpha, rank, results_run_id in ranked:
        entry = runs.setdefault(project_id, {})
        entry["latest" if rank == 1 else "previous"] = (run_id, alpha)
        if rank == 1:
            stored_under[run_id] = results_run_id or run_id
    disagreeing = ItemResult.objects.filter(run_id__in=stored_under.values()).filter(
        Q(disagreement__gt=0) | Q(is_tie=True)
    )
    # Disagreeing items minus the closed ones: two index counts (an anti-join over every
    # disagreeing item costs several times more at a million items; reviews are few).
    per_results = _per_run(disagreeing)
    closed = _per_run(disagreeing.filter(item__review__status__in=CLOSED))
    disagreements = {
        run_id: per_results.get(results_id, 0) - closed.get(results_id, 0)
        for run_id, results_id in stored_under.items()
    }
    overview = {}
    for project in projects:
        total = getattr(project, "item_count", 0) or 0
        still_open = open_items.get(project.id, 0)
        run = runs.get(project.id, {})
        run_id, alpha = run.get("latest", (None, None))
        _, before = run.get("previous", (None, None))
        trend = None if alpha is None or before is None else alpha - before
        overview[project.id] = {
            "open_items": still_open,
            "done_share": (total - still_open) / total if total else 0.0,
            "alpha": alpha,
            "trend": trend,
            "trend_word": None
            if trend is None
            else "up"
            if trend > TREND_EPSILON
            else "down"
            if trend < -TREND_EPSILON
            else "flat",
            "run_id": run_id,
            "disagreements": disagreements.get(run_id, 0) if run_id else None,
        }
    return overview


def _per_run(results) -> dict[int, int]:
    return dict(results.values("run_id").annotate(n=Count("pk")).order_by().values_list("run_id", "n"))
