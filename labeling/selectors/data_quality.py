"""Input-quality summaries for the Data page: histograms of each metric, outliers, slices."""

import numpy as np
from django.db.models import Count
from django.db.models.fields.json import KeyTextTransform

from labeling.models import DataType, Item, Project

METRICS = {
    DataType.IMAGE: [
        ("width", "Width (px)"),
        ("height", "Height (px)"),
        ("brightness", "Mean brightness (0–255)"),
        ("contrast", "Contrast (std of gray)"),
        ("blur", "Sharpness (variance of Laplacian)"),
    ],
    DataType.AUDIO: [
        ("duration", "Duration (s)"),
        ("rms_dbfs", "RMS level (dBFS)"),
        ("peak_dbfs", "Peak (dBFS)"),
        ("leading_silence", "Leading silence (s)"),
        ("trailing_silence", "Trailing silence (s)"),
        ("clipping_ratio", "Clipped samples (share)"),
    ],
    DataType.RECORD: [("missing", "Missing fields per record"), ("fields", "Fields per record")],
}
BINS = 12
MAX_FLAGGED = 50


def _histogram(values: np.ndarray) -> dict:
    counts, edges = np.histogram(values, bins=BINS)
    peak = counts.max() or 1
    return {
        "n": len(values),
        "min": float(values.min()),
        "median": float(np.median(values)),
        "max": float(values.max()),
        "bars": [
            {
                "count": int(c),
                "height": round(100 * c / peak, 1),
                "low": float(edges[i]),
                "high": float(edges[i + 1]),
            }
            for i, c in enumerate(counts)
        ],
    }


def data_quality(*, project: Project) -> dict:
    """Histograms per metric, flagged items and item counts per slice value."""
    metrics = METRICS[project.data_type]
    values: dict[str, list[float]] = {key: [] for key, _ in metrics}
    flagged = []
    flag_counts: dict[str, int] = {}
    rows = (
        Item.objects.filter(project=project)
        .values_list("id", "external_id", "quality")
        .iterator(chunk_size=5000)
    )
    for item_id, external_id, quality in rows:
        if not isinstance(quality, dict):
            continue
        for key, _ in metrics:
            value = quality.get(key)
            if isinstance(value, int | float):
                values[key].append(float(value))
        for flag in quality.get("flags") or []:
            flag_counts[flag] = flag_counts.get(flag, 0) + 1
            if len(flagged) < MAX_FLAGGED:
                flagged.append({"id": item_id, "external_id": external_id, "flag": flag})
    histograms = [
        {"key": key, "label": label, **_histogram(np.asarray(values[key]))}
        for key, label in metrics
        if values[key]
    ]
    return {
        "histograms": histograms,
        "flagged": flagged,
        "flag_counts": flag_counts,
        "slices": _slices(project),
    }


def _slices(project: Project, max_fields: int = 10) -> dict:
    keys = set()
    for metadata in (
        Item.objects.filter(project=project).exclude(metadata={}).values_list("metadata", flat=True)[:500]
    ):
        if isinstance(metadata, dict):
            keys |= {
                k
                for k, v in metadata.items()
                if isinstance(v, str | int | float | bool) and not k.startswith("_")
            }
    out = {}
    for key in sorted(keys)[:max_fields]:
        rows = (
            Item.objects.filter(project=project, metadata__has_key=key)
            .annotate(value=KeyTextTransform(key, "metadata"))
            .values("value")
            .annotate(n=Count("pk"))
            .order_by("-n")[:20]
        )
        out[key] = [{"value": r["value"], "items": r["n"]} for r in rows]
    return out
