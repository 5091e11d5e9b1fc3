"""An item's current label, defined once.

1. a reviewer's resolution (given under any schema version, read through the mappings to the
   current one), else
2. gold (mapped the same way), else
3. the consensus of the current answers mapped to the current version, else none.

Every reader goes through here: the export (the PostgreSQL fast path in ``labels_sql`` states
the same rules in SQL, and a model-based test holds the two equal), snapshots, the review
queue, the Agreement and Model pages and the gap-to-HLP table.

A run's per-item results may have been pruned (``services.run_retention``: only the latest
runs keep them): reading labels from such a run answers 410, never labels silently computed
without it. The latest run is always kept.

Consensus of classes and ratings comes from the latest run while it holds: the run measured the
current version and the item has had no answer since the run started (less a safety margin).
Every other item gets the majority vote of its mapped answers, computed live (a tie gives none;
its ``method`` says "majority" even when Dawid–Skene was asked, which needs a fit over the
whole project). For boxes, multi-classes and transcripts the consensus comes from the latest
run, mapped to the current version.

``is_tie`` and ``confidence`` describe the consensus; a resolved or gold item is never a tie.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

from consistency.models import AgreementRun, ItemResult, Review, ReviewStatus
from consistency.selectors.annotations import _map_value, version_mappings
from consistency.selectors.runs import run_latest
from core.errors import Gone
from labeling.models import Annotation, Item, LabelKind, LabelSchemaVersion, Project

CATEGORICAL = frozenset({LabelKind.CLASSES, LabelKind.RATING})
UNKNOWN_VERSION = 0  # key of the mapping for values stored before their version was recorded
SOURCES = ("resolved", "gold", "consensus")


@dataclass(frozen=True)
class LabelContext:
    project: Project
    version: LabelSchemaVersion
    classes: tuple[str, ...]
    mappings: dict[int, dict]  # schema version id (or UNKNOWN_VERSION) → {old name: new name | None}
    method: str
    run: AgreementRun | None
    run_usable: bool  # the run measured the current version: its per-item figures still hold
    since: datetime | None  # with a usable run: items answered from here on are read live
    # The database every read of these labels goes to: the primary, or the read replica an
    # export chose (``exports.source``); the context's own rows were read there too.
    db: str = DEFAULT_DB_ALIAS

    @property
    def categorical(self) -> bool:
        return self.project.label_kind in CATEGORICAL

    def map(self, value, version_id: int | None):
        return _map_value(value, self.mappings.get(version_id or UNKNOWN_VERSION, {}))


def _versions(project: Project, db: str = DEFAULT_DB_ALIAS) -> list[LabelSchemaVersion]:
    """The project's versions with their classes, oldest first (two queries)."""
    return list(
        LabelSchemaVersion.objects.using(db)
        .filter(project_id=project.id)
        .order_by("number")
        .prefetch_related("classes")
    )


def decision_mappings(
    *, project: Project, version: LabelSchemaVersion, versions: list[LabelSchemaVersion] | None = None
) -> dict[int, dict]:
    """``version_mappings`` plus one for values stored before their version was recorded
    (key ``UNKNOWN_VERSION``): each name is read from the newest version that has it."""
    versions = versions if versions is not None else _versions(project)
    mappings = version_mappings(project=project, to_version=version, versions=versions)
    newest: dict[str, int] = {}
    for older in versions:
        if older.number > version.number:
            continue
        for label_class in older.classes.all():
            newest[label_class.name] = older.id
    inferred = {}
    for name, version_id in newest.items():
        mapping = mappings.get(version_id)
        if mapping is not None and name in mapping:
            inferred[name] = mapping[name]
    mappings[UNKNOWN_VERSION] = inferred
    return mappings


def gold_values(*, project: Project, version: LabelSchemaVersion) -> dict[int, object]:
    """Gold items → their gold value read under ``version`` (None when its class was split)."""
    mappings = decision_mappings(project=project, version=version)
    rows = project.items.filter(is_gold=True).values_list("id", "gold_value", "gold_version_id")
    return {
        item_id: _map_value(value, mappings.get(version_id or UNKNOWN_VERSION, {}))
        for item_id, value, version_id in rows.iterator(chunk_size=20_000)
    }


def _quality(source: str | None, result) -> float | None:
    """A decided label has nothing to doubt (1.0); else the run's score of the answers'
    consensus, which it computes for every item (a later decision needs no new results)."""
    if source in ("resolved", "gold"):
        return 1.0
    return result[-1] if result is not None else None


def label_context(
    *,
    project: Project,
    method: str | None = None,
    run: AgreementRun | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> LabelContext:
    """What reading current labels needs (three or four queries); ``run`` defaults to the
    latest finished one. ``using``: the database to read from (``LabelContext.db``)."""
    if run is not None and run.results_pruned:
        raise results_pruned_error(run)
    versions = _versions(project, using)
    version = [v for v in versions if v.published_at is not None][-1]
    if run is None:
        run = run_latest(project=project, using=using)
    mappings = decision_mappings(project=project, version=version, versions=versions)
    usable = run is not None and run.schema_version_id == version.id
    margin = timedelta(seconds=settings.CONCORD_LIVE_MARGIN_SECONDS)
    return LabelContext(
        project=project,
        version=version,
        classes=tuple(c.name for c in version.classes.all()),
        mappings=mappings,
        method=method or (run.params.get("consensus") if run else None) or project.consensus_method,
        run=run,
        run_usable=usable,
        since=(run.started_at or run.created_at) - margin if run is not None and usable else None,
        db=using,
    )


def results_pruned_error(run: AgreementRun) -> Gone:
    keep = settings.CONCORD_RUN_RESULTS_KEEP
    return Gone(
        f"The per-item results of agreement run #{run.number} were pruned: only the latest {keep} "
        "runs keep them (CONCORD_RUN_RESULTS_KEEP). Its report stays; export from the latest run, "
        "or use a snapshot frozen from this run.",
        code="run_results_pruned",
        extra={"run_id": run.id},
    )


@dataclass
class CurrentLabel:
    label: object
    label_source: str | None
    consensus: object
    method: str
    confidence: float | None
    agreement: float | None
    n_answers: int
    is_tie: bool
    status: str
    resolved_by: str | None
    resolved_at: str | None
    label_quality: float | None

    @property
    def listed(self) -> bool:
        """An item is in the dataset when it has a label or at least one answer."""
        return self.n_answers > 0 or self.label is not None


def _timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds always written (the SQL path writes the same)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _majority(values: list) -> tuple[object, float | None, float | None, bool]:
    """(winner or None, top share, share of agreeing answer pairs, tie) of mapped class names."""
    if not values:
        return None, None, None, False
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    total = len(values)
    top = max(counts.values())
    winners = [v for v, n in counts.items() if n == top]
    pairs = sum(n * (n - 1) for n in counts.values())
    agreement = float(pairs) / float(total * (total - 1)) if total >= 2 else None
    tie = len(winners) > 1
    return (None if tie else winners[0]), top / total, agreement, tie


def _answers(item_ids: list[int], db: str) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = {}
    rows = (
        Annotation.objects.using(db)
        .filter(item_id__in=item_ids, is_current=True)
        .values_list("item_id", "value", "skip_reason", "schema_version_id", "created_at")
    )
    for item_id, *rest in rows:
        out.setdefault(item_id, []).append(tuple(rest))
    return out


def _reviews(item_ids: list[int], db: str) -> dict[int, tuple]:
    rows = (
        Review.objects.using(db)
        .filter(item_id__in=item_ids)
        .values_list(
            "item_id", "status", "final_value", "final_version_id", "resolved_by__username", "resolved_at"
        )
    )
    return {row[0]: row[1:] for row in rows}


def _results(ctx: LabelContext, item_ids: list[int]) -> dict[int, tuple]:
    if ctx.run is None:
        return {}
    rows = (
        ItemResult.objects.using(ctx.db)
        .of_run(ctx.run)
        .filter(item_id__in=item_ids)
        .values_list(
            "item_id",
            "consensus",
            "method",
            "by_method",
            "confidence",
            "agreement",
            "n_answers",
            "is_tie",
            "label_quality",
        )
    )
    results = {row[0]: row[1:] for row in rows}
    if not results and item_ids:
        # A reader going through the run chunk by chunk (an export of an older run) may see it
        # pruned in between: say so rather than go on without its results.
        run = (
            AgreementRun.objects.using(ctx.db)
            .filter(pk=ctx.run.pk)
            .only("results_pruned_at", "number")
            .first()
        )
        if run is not None and run.results_pruned:
            raise results_pruned_error(run)
    return results


def _from_run(ctx: LabelContext, result: tuple) -> tuple:
    assert ctx.run is not None  # results are the run's (``_results``)
    consensus, method, by_method, confidence, agreement, n_answers, is_tie, _ = result
    methods: dict[str, dict[str, Any]] = by_method or {}
    chosen = methods.get(ctx.method)
    if method == ctx.method:
        pass  # the run's own consensus
    elif chosen is not None:
        consensus, confidence, method = chosen.get("value"), chosen.get("confidence"), ctx.method
    elif method == "gold":  # runs from before this module stored gold in place of the consensus
        method, chosen = next(iter(methods.items()), (ctx.method, {}))
        consensus, confidence = chosen.get("value"), chosen.get("confidence")
    consensus = _map_value(consensus, ctx.mappings.get(ctx.run.schema_version_id, {}))
    return consensus, method, confidence, agreement, n_answers, is_tie


def _consensus(ctx: LabelContext, answers: list[tuple], result: tuple | None) -> tuple:
    """(consensus, method, confidence, agreement, n_answers, is_tie) of one item: the run's
    figures while they hold, else the live majority of the mapped answers."""
    if ctx.categorical:
        changed = ctx.since is None or any(created >= ctx.since for *_, created in answers)
        if not changed:
            return _from_run(ctx, result) if result is not None else (None, ctx.method, None, None, 0, False)
        mapped = [ctx.map(value, version_id) for value, skip, version_id, _ in answers if not skip]
        mapped = [v for v in mapped if v is not None]
        winner, share, agreement, tie = _majority(mapped)
        return winner, "majority", share, agreement, len(mapped), tie
    if result is not None:
        return _from_run(ctx, result)
    return None, ctx.method, None, None, sum(1 for a in answers if not a[1] and a[0] is not None), False


def item_labels(ctx: LabelContext, items: Iterable[tuple[int, bool, object, int | None]]) -> dict:
    """Current labels of a chunk of items, given as (id, is_gold, gold_value, gold_version_id).
    Three queries per chunk, whatever its size."""
    items = list(items)
    ids = [row[0] for row in items]
    answers, reviews, results = _answers(ids, ctx.db), _reviews(ids, ctx.db), _results(ctx, ids)
    out = {}
    for item_id, is_gold, gold_value, gold_version_id in items:
        result = results.get(item_id)
        consensus, method, confidence, agreement, n_answers, tie = _consensus(
            ctx, answers.get(item_id, []), result
        )
        status, final_value, final_version_id, resolved_by, resolved_at = reviews.get(
            item_id, (ReviewStatus.OPEN, None, None, None, None)
        )
        label, source = None, None
        if status == ReviewStatus.RESOLVED and final_value is not None:
            label = ctx.map(final_value, final_version_id)
            source = "resolved" if label is not None else None
        if label is None and is_gold and gold_value is not None:
            label = ctx.map(gold_value, gold_version_id)
            source = "gold" if label is not None else None
        if label is None and consensus is not None:
            label, source = consensus, "consensus"
        out[item_id] = CurrentLabel(
            label=label,
            label_source=source,
            consensus=consensus,
            method=method,
            confidence=confidence,
            agreement=agreement,
            n_answers=n_answers,
            is_tie=tie and source in (None, "consensus"),
            status=status,
            resolved_by=resolved_by if source == "resolved" else None,
            resolved_at=_timestamp(resolved_at) if source == "resolved" and resolved_at else None,
            label_quality=_quality(source, result),
        )
    return out


def item_label(*, project: Project, item, ctx: LabelContext | None = None) -> CurrentLabel:
    """One item's current label (the review page, the queue's rows)."""
    ctx = ctx or label_context(project=project)
    return item_labels(ctx, [(item.id, item.is_gold, item.gold_value, item.gold_version_id)])[item.id]


def project_labels(*, project: Project, ctx: LabelContext | None = None, chunk: int = 5_000) -> dict:
    """Every listed item's current label (item id → CurrentLabel), read in chunks."""
    ctx = ctx or label_context(project=project)
    rows = (
        Item.objects.filter(project=project)
        .order_by("id")
        .values_list("id", "is_gold", "gold_value", "gold_version_id")
        .iterator(chunk_size=chunk)
    )
    out: dict = {}
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= chunk:
            out |= {k: v for k, v in item_labels(ctx, batch).items() if v.listed}
            batch = []
    if batch:
        out |= {k: v for k, v in item_labels(ctx, batch).items() if v.listed}
    return out


def rows_with_labels(*, project: Project, rows, ctx: LabelContext | None = None) -> list:
    """Queue rows (ItemResults with ``item``) with ``current`` attached: the page shows each
    item's current label and consensus, not the figures its run had."""
    rows = list(rows)
    if not rows:
        return rows
    ctx = ctx or label_context(project=project)
    labels = item_labels(
        ctx, [(r.item_id, r.item.is_gold, r.item.gold_value, r.item.gold_version_id) for r in rows]
    )
    for row in rows:
        row.current = labels[row.item_id]
    return rows


def label_dict(current: CurrentLabel) -> dict:
    return {
        "value": current.label,
        "source": current.label_source,
        "resolved_by": current.resolved_by,
        "resolved_at": current.resolved_at,
        "status": current.status,
    }
