"""What an export would hold, before it is downloaded: rows and class balance per split.

Counted over the very rows the export writes, as JSON lines (``export_stream``: PostgreSQL
writes them on the fast path), so the preview can't drift from the file whatever the format,
and whatever columns the rows carry: the balance reads ``label`` (what to train on) where rows
have it, else ``consensus``."""

import dataclasses
import json
from collections import Counter

from consistency.exports.params import ExportParams
from consistency.services.exports import export_check, export_stream
from labeling.models import Project

MAX_CLASSES_SHOWN = 30


def _key(value) -> str:
    if value is None:
        return "(no consensus)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)[:60]


def export_preview(*, project: Project, params: ExportParams) -> dict:
    """``{"run", "rows", "splits": [{"name", "rows", "classes": [(class, n, share)]}]}``."""
    export_check(project=project, params=params)  # the chosen format's own checks (COCO: boxes)
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
    order = list(params.split.names) if params.split else ["all"]
    splits = []
    for name in order:
        counter = counts.get(name, Counter())
        total = sum(counter.values())
        classes = [(c, n, n / total) for c, n in counter.most_common(MAX_CLASSES_SHOWN)]
        splits.append({"name": name, "rows": total, "classes": classes, "more": len(counter) > len(classes)})
    return {"run": ctx.run, "rows": sum(s["rows"] for s in splits), "splits": splits}
