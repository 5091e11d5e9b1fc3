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


def line_chart(series: list[dict], *, width: int = 640, height: int = 220, pad: int = 36) -> dict:
    """series: [{"label": "v1 · run 3", "value": 0.61, "lo": 0.55, "hi": 0.66}, ...] in time order."""
    values = [s["value"] for s in series if s.get("value") is not None]
    lows = [s["lo"] for s in series if s.get("lo") is not None]
    highs = [s["hi"] for s in series if s.get("hi") is not None]
    if not values:
        return {"points": [], "width": width, "height": height, "polyline": "", "ticks": []}
    top = max([*values, *highs, 1.0 if max(values) > 0.8 else max(values)])
    bottom = min([*values, *lows, 0.0])
    span = (top - bottom) or 1.0
    step = (width - 2 * pad) / max(1, len(series) - 1)

    def y(v: float) -> float:
        return pad + (top - v) / span * (height - 2 * pad)

    points = [
        Point(
            x=pad + i * step,
            y=y(s["value"]),
            lo_y=y(s["lo"]) if s.get("lo") is not None else None,
            hi_y=y(s["hi"]) if s.get("hi") is not None else None,
            label=s["label"],
            value=s["value"],
        )
        for i, s in enumerate(series)
        if s.get("value") is not None
    ]
    ticks = [{"y": y(v), "label": f"{v:.2f}"} for v in (bottom, (bottom + top) / 2, top)]
    return {
        "points": points,
        "width": width,
        "height": height,
        "polyline": " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points),
        "ticks": ticks,
        "pad": pad,
    }


def heat_class(value: float | None, *, low: float = 0.0, high: float = 1.0) -> str:
    """A CSS class heat-0 … heat-10 for a value in [low, high]; heat-na when missing."""
    if value is None:
        return "heat-na"
    share = (value - low) / ((high - low) or 1.0)
    return f"heat-{max(0, min(10, round(share * 10)))}"
