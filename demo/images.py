"""Phone surfaces with defects, drawn with Pillow (the course's visual inspection example)."""

import io
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

DEFECT_CLASSES = ["deep scratch", "shallow scratch", "dent", "none"]
FACTORIES = ["Shenzhen", "Chennai", "Guadalajara"]
CAMERAS = ["line-cam-1", "line-cam-2"]
LIGHTING = ["bright", "dim"]


def phone_surface_with_box(
    defect: str, *, seed: int, severity: float = 1.0, size: tuple[int, int] = (320, 240), dim: bool = False
) -> tuple[Image.Image, dict | None]:
    """A phone back with one defect; returns the image and the defect's box {x, y, w, h} (or None).

    ``severity`` in [0, 1] sets how visible a scratch is: a mid-severity deep scratch looks
    like a shallow one, which is how the demo makes the two classes genuinely confusable.
    """
    if defect not in DEFECT_CLASSES:
        raise ValueError(f"unknown defect {defect!r}")
    rng = random.Random(seed)
    width, height = size
    base = 70 if dim else 150
    image = Image.new("RGB", size, (base, base + 4, base + 10))
    draw = ImageDraw.Draw(image)
    for y in range(height):  # a soft vertical gradient
        shade = base + int(35 * y / height)
        draw.line([(0, y), (width, y)], fill=(shade, shade + 4, shade + 10))
    body = (int(width * 0.18), int(height * 0.06), int(width * 0.82), int(height * 0.94))
    draw.rounded_rectangle(
        body, radius=22, fill=(40 + base // 3, 42 + base // 3, 48 + base // 3), outline=(20, 20, 24), width=3
    )
    lens = (body[0] + 14, body[1] + 14, body[0] + 58, body[1] + 58)
    draw.rounded_rectangle(lens, radius=10, fill=(25, 25, 30))
    draw.ellipse((lens[0] + 8, lens[1] + 8, lens[0] + 26, lens[1] + 26), fill=(60, 70, 90))
    box = None
    x0 = rng.randint(body[0] + 20, body[0] + (body[2] - body[0]) // 2)
    y0 = rng.randint(body[1] + 70, body[3] - 60)
    if defect in ("deep scratch", "shallow scratch"):
        length = rng.randint(60, 110)
        x1 = min(body[2] - 10, x0 + length)
        y1 = y0 + rng.randint(-35, 35)
        strength = severity if defect == "deep scratch" else 0.35 * severity
        tone = int(200 * strength) + 30
        line_width = 1 + int(3 * strength)
        draw.line([(x0, y0), (x1, y1)], fill=(tone, tone, tone + 5), width=line_width)
        box = {"x": min(x0, x1) - 3, "y": min(y0, y1) - 3, "w": abs(x1 - x0) + 6, "h": abs(y1 - y0) + 6}
    elif defect == "dent":
        r = rng.randint(12, 22)
        for k in range(r, 0, -2):
            shade = 30 + base // 3 + int(60 * (1 - k / r) * severity)
            draw.ellipse((x0 - k, y0 - k * 0.7, x0 + k, y0 + k * 0.7), fill=(shade, shade, shade + 6))
        box = {"x": x0 - r, "y": int(y0 - r * 0.7), "w": 2 * r, "h": int(1.4 * r)}
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    # Seeded sensor noise (Pillow's effect_noise has its own unseeded generator).
    grain = np.random.default_rng(seed).normal(0, 4, (height, width, 1))
    pixels = np.clip(np.asarray(image, dtype=np.float64) + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB"), box


def demo_image_specs(n: int = 24, *, seed: int = 0) -> list[dict]:
    """Item specs for the defect project: defect, severity and slice metadata."""
    rng = random.Random(seed)
    specs = []
    for i in range(n):
        defect = DEFECT_CLASSES[i % len(DEFECT_CLASSES)]
        # Every other scratch is ambiguous (mid severity): the confusable pair in the demo.
        severity = 0.55 if defect.endswith("scratch") and i % 8 < 4 else rng.uniform(0.8, 1.0)
        specs.append(
            {
                "external_id": f"phone-{i + 1:03d}",
                "defect": defect,
                "severity": round(severity, 2),
                "metadata": {
                    "factory": FACTORIES[i % len(FACTORIES)],
                    "camera": CAMERAS[(i // 3) % len(CAMERAS)],
                    "lighting": LIGHTING[(i // 5) % len(LIGHTING)],
                },
            }
        )
    return specs


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format=fmt, optimize=True)
    return buffer.getvalue()
