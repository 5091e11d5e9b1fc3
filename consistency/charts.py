"""Server-rendered charts: SVG geometry computed here, drawn by templates.

Hand-written on purpose: two small chart shapes (a line with intervals, heat cells) don't
justify a JavaScript charting library, and SVG from the server is readable without hovering
(every point carries its value as text) and works under a strict Content-Security-Policy.
"""

from dataclasses import dataclass


@dataclass
class Point:
    x: float
    y: float
    lo_y: float | None
    hi_y: float | None
    label: str
    value: float
    show_label: bool


# Krippendorff's thresholds for alpha: drawn on every alpha-over-runs chart.
ALPHA_REFERENCES = ((0.800, "0.800 reliable"), (0.667, "0.667 tentative"))
MAX_X_LABELS = 8


def line_chart(
    series: list[dict],
    *,
    width: int = 540,
    height: int = 240,
    references=ALPHA_REFERENCES,
    y_title: str = "Krippendorff's alpha",
    x_title: str = "agreement run (schema version · run number)",
) -> dict:
    """series: [{"label": "v1 · #3", "value": 0.61, "lo": 0.55, "hi": 0.66}, ...] in time order.

    The geometry of an SVG line chart with interval bars, horizontal reference lines and axis
    titles; drawn at ``width`` px or wider (the page never shrinks its 12 px text)."""
    values = [s["value"] for s in series if s.get("value") is not None]
    lows = [s["lo"] for s in series if s.get("lo") is not None]
    highs = [s["hi"] for s in series if s.get("hi") is not None]
    left, right, top_pad, bottom_pad = 58, 16, 16, 52
    if not values:
        return {"points": [], "width": width, "height": height, "polyline": "", "ticks": [], "references": []}
    top = max([*values, *highs, 1.0])
    bottom = min([*values, *lows, 0.0])
    span = (top - bottom) or 1.0
    step = (width - left - right) / max(1, len(series) - 1)

    def y(v: float) -> float:
        return top_pad + (top - v) / span * (height - top_pad - bottom_pad)

    every = -(-len(series) // MAX_X_LABELS)  # label at most MAX_X_LABELS runs along the axis
    points = [
        Point(
            x=left + i * step,
            y=y(s["value"]),
            lo_y=y(s["lo"]) if s.get("lo") is not None else None,
            hi_y=y(s["hi"]) if s.get("hi") is not None else None,
            label=s["label"],
            value=s["value"],
            show_label=i % every == 0 or i == len(series) - 1,
        )
        for i, s in enumerate(series)
        if s.get("value") is not None
    ]
    ticks = [{"y": y(v), "label": f"{v:.2f}"} for v in sorted({bottom, (bottom + top) / 2, top})]
    return {
        "points": points,
        "width": width,
        "height": height,
        "left": left,
        "right_x": width - right,
        "plot_bottom": height - bottom_pad,
        "polyline": " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points),
        "ticks": ticks,
        "references": [{"y": y(v), "label": label} for v, label in references if bottom <= v <= top],
        "y_title": y_title,
        "x_title": x_title,
        "y_title_at": (top_pad + height - bottom_pad) / 2,
    }


def heat_class(value: float | None, *, low: float = 0.0, high: float = 1.0) -> str:
    """A CSS class heat-0 … heat-10 for a value in [low, high]; heat-na when missing."""
    if value is None:
        return "heat-na"
    share = (value - low) / ((high - low) or 1.0)
    return f"heat-{max(0, min(10, round(share * 10)))}"
