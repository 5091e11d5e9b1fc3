"""What the Definitions page suggests: class pairs whose merge would raise agreement most, and
how many items people split between classes (candidates for a "borderline" class)."""

from typing import TypedDict

from consistency.metrics.categorical.agreement import class_confusion
from consistency.metrics.stats.counts import merge_counts, value_counts
from consistency.models import ItemResult
from consistency.selectors.annotations import annotations_frame
from consistency.selectors.runs import run_latest
from consistency.selectors.schema import class_names
from consistency.services.measure.common import report_alpha
from labeling.models import LabelKind, Project
from labeling.selectors.schema_versions import schema_version_current


class MergeSuggestion(TypedDict):
    classes: list[str]
    into: str
    confusions: int
    alpha_before: float
    alpha_after: float
    gain: float


def merged_name(a: str, b: str) -> str:
    """A name for two merged classes: their shared last words ("deep scratch" + "shallow
    scratch" → "scratch"), else "a or b"."""
    wa, wb = a.split(), b.split()
    shared: list[str] = []
    while wa and wb and wa[-1] == wb[-1]:
        shared.insert(0, wa.pop())
        wb.pop()
    return " ".join(shared) if shared else f"{a} or {b}"


def schema_suggestions(*, project: Project, limit: int = 5) -> dict:
    """Merge candidates (class pairs whose merge raises alpha, most first; never one that lowers
    it) and borderline candidates."""
    version = schema_version_current(project=project, with_classes=True)
    if project.label_kind == LabelKind.TRANSCRIPTION:
        return {"merges": [], "split_items": 0}
    names = class_names(version)
    frame = annotations_frame(project=project, schema_version=version)
    answered = frame[~frame["skipped"] & ~frame["needs_relabel"] & frame["value"].isin(names)]
    merges: list[MergeSuggestion] = []
    if not answered.empty:
        _, counts = value_counts(answered, names, min_labelers=1)
        try:
            base = report_alpha(counts)
        except ValueError:
            base = None
        pairs = class_confusion(counts).to_numpy()
        if base is not None:
            for i in range(len(names)):
                for j in range(i + 1, len(names)):
                    if pairs[i, j] == 0:
                        continue
                    try:
                        merged = report_alpha(merge_counts(counts, [[i, j]]))
                    except ValueError:
                        continue
                    if not merged > base:  # a merge that does not raise agreement is no suggestion
                        continue
                    merges.append(
                        {
                            "classes": [names[i], names[j]],
                            "into": merged_name(names[i], names[j]),
                            "confusions": int(pairs[i, j]),
                            "alpha_before": round(base, 4),
                            "alpha_after": round(merged, 4),
                            "gain": round(merged - base, 4),
                        }
                    )
    merges.sort(key=lambda m: -m["gain"])
    run = run_latest(project=project)
    split = ItemResult.objects.of_run(run).filter(is_tie=True).count() if run else 0
    return {"merges": merges[:limit], "split_items": split}
