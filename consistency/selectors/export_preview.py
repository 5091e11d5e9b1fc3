"""What an export would hold, before it is downloaded: rows and class balance per split.

The counts are the export's: on PostgreSQL, for the export's default filters (the
lacks-information items set aside, ``exclude=unresolved``/``borderline``) they come from the
number of listed items per current label (``exports.strata``: the run's per-label counts, stored
with the run and cached, corrected by the items a review, gold or a new answer touched since),
split the way the export splits (the i-th item of a stratum takes the i-th entry of the split
sequence). The items a filter sets aside are touched items, whose positions in their stratum
are read exactly.

Filters on the answers' figures (agreement, confidence, answers, quality, ties), slices,
``stratify_by``, other label kinds and projects whose run predates the current schema version
count the rows of the export itself, as JSON lines (slow on large projects, always right).
tests/consistency/test_export_preview.py compares both with the export's rows."""

import dataclasses
import json
from collections import Counter

from consistency.exports import strata
from consistency.exports.params import ExportParams
from consistency.exports.rows import _is_borderline, export_context
from consistency.exports.splits import stratum_offset, weighted_sequence
from consistency.exports.stream import export_check, export_stream
from labeling.models import Project

MAX_CLASSES_SHOWN = 30
LABEL_ONLY_EXCLUDES = frozenset({"unresolved", "borderline"})


def _key(value) -> str:
    if value is None:
        return "(no consensus)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:60]


def _counted_by_strata(params: ExportParams) -> bool:
    """Filters that set aside whole labels or touched items only (see the module docstring)."""
    return (
        params.min_agreement is None
        and params.min_confidence is None
        and params.min_answers is None
        and params.min_quality is None
        and not params.slices
        and not params.stratify_by
        and params.exclude <= LABEL_ONLY_EXCLUDES
    )


def _label_dropped(label: str | None, params: ExportParams) -> bool:
    value = None if label is None else json.loads(label)
    if "unresolved" in params.exclude and value is None:
        return True
    return "borderline" in params.exclude and _is_borderline(value)


def _split_counts(n: int, sequence: list[int], offset: int, splits: int) -> list[int]:
    """How many of positions 0..n-1 of a stratum fall in each split."""
    period = len(sequence)
    out = [0] * splits
    for index in sequence:
        out[index] += n // period
    for position in range(n % period):
        out[sequence[(position + offset) % period]] += 1
    return out


def _strata_counts(*, project: Project, ctx, params: ExportParams) -> dict[str, Counter]:
    index = strata.strata_read(project=project, ctx=ctx, params=params)
    labels = {label: n for label, n in index.counts().items() if not _label_dropped(label, params)}
    aside = [(t.item_id, t.label) for t in index.touched if t.listed and not t.keep and t.label in labels]
    out: dict[str, Counter] = {}
    if params.split is None:
        counter = out.setdefault("all", Counter())
        for label, n in labels.items():
            counter[_key(None if label is None else json.loads(label))] += n
        for _, label in aside:
            counter[_key(None if label is None else json.loads(label))] -= 1
        return out
    spec, names = params.split, params.split.names
    sequence = weighted_sequence(spec)
    positions = index.positions(aside)
    aside_by_label: dict[str | None, list[int]] = {}
    for item_id, label in aside:
        aside_by_label.setdefault(label, []).append(positions[item_id])
    for label, n in labels.items():
        offset = stratum_offset(params.seed, strata.stratum_text(label), spec.period)
        per_split = _split_counts(n, sequence, offset, len(names))
        for position in aside_by_label.get(label, []):
            per_split[sequence[(position + offset) % spec.period]] -= 1
        key = _key(None if label is None else json.loads(label))
        for name, count in zip(names, per_split, strict=True):
            if count:
                out.setdefault(name, Counter())[key] += count
    return out


def _stream_counts(*, project: Project, params: ExportParams):
    ctx, stream = export_stream(project=project, params=dataclasses.replace(params, format="jsonl"))
    counts: dict[str, Counter] = {}
    tail = b""
    for block in stream:
        lines = (tail + block).split(b"\n")
        tail = lines.pop()
        for line in lines:
            row = json.loads(line)
            label = row["label"] if "label" in row else row.get("consensus")
            counts.setdefault(row.get("split") or "all", Counter())[_key(label)] += 1
    return ctx, counts


def export_preview(*, project: Project, params: ExportParams) -> dict:
    """``{"run", "rows", "splits": [{"name", "rows", "classes": [(class, n, share)]}]}``."""
    export_check(project=project, params=params)  # the chosen format's own checks (COCO: boxes)
    ctx = export_context(project=project, params=params)
    if strata.applies(ctx) and _counted_by_strata(params):
        counts = _strata_counts(project=project, ctx=ctx, params=params)
    else:
        ctx, counts = _stream_counts(project=project, params=params)
    order = list(params.split.names) if params.split else ["all"]
    splits = []
    for name in order:
        counter = +counts.get(name, Counter())  # drops classes left at zero
        total = sum(counter.values())
        classes = [(c, n, n / total) for c, n in counter.most_common(MAX_CLASSES_SHOWN)]
        splits.append({"name": name, "rows": total, "classes": classes, "more": len(counter) > len(classes)})
    return {"run": ctx.run, "rows": sum(s["rows"] for s in splits), "splits": splits}
