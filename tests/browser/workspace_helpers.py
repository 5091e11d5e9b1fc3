"""What the workspace browser tests build on: items with media as an import stores them
(a phone photo with a dent and a scratch, voice-like audio), record pairs, labelers, opening
the workspace, and a page that fails its test on any JavaScript error."""

import io
import json

import numpy as np
import soundfile as sf
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from demo.images import phone_surface_with_box
from labeling.models import Item, LabelClass, Role
from tests.browser.conftest import login
from tests.factories import MembershipFactory, UserFactory

IMAGE_SIZE = (640, 480)
SCRATCH = {"x": 250, "y": 300, "w": 140, "h": 40}


def failing_on_javascript_errors(page):
    """The page, failing the test on any JavaScript error (HTTP errors are the tests' business):
    a test module's ``page`` fixture yields from it."""
    errors = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console: {msg.text}")
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")  # tested answers
            else None
        ),
    )
    yield page
    assert not errors, errors


def phone_png() -> tuple[bytes, dict]:
    """A phone back with a dent (its box returned) and a scratch drawn at SCRATCH."""
    image, dent = phone_surface_with_box("dent", seed=3, size=IMAGE_SIZE)
    draw = ImageDraw.Draw(image)
    s = SCRATCH
    draw.line(
        [(s["x"] + 5, s["y"] + s["h"] - 5), (s["x"] + s["w"] - 5, s["y"] + 5)], fill=(235, 235, 240), width=3
    )
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue(), dent


def speech_wav(seconds=3.0, rate=16_000, seed=0) -> bytes:
    """Voice-like audio: a buzzing fundamental with harmonics, shaped into syllables."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    pitch = 140 + 25 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = np.zeros_like(t)
    start = 0.15
    while start < seconds - 0.3:
        length = rng.uniform(0.15, 0.35)
        mask = (t >= start) & (t < start + length)
        envelope[mask] = np.sin(np.pi * (t[mask] - start) / length) * rng.uniform(0.5, 1.0)
        start += length + rng.uniform(0.03, 0.25)
    signal = 0.25 * voice * envelope + 0.003 * rng.standard_normal(len(t))
    buffer = io.BytesIO()
    sf.write(buffer, signal.astype(np.float32), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _thumbnail(png: bytes) -> bytes:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.thumbnail((160, 160))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def _waveform(wav: bytes, buckets: int = 800) -> bytes:
    """Peaks as an import stores them: {"peaks": [0..1], "duration": s, "sample_rate": n}."""
    samples, rate = sf.read(io.BytesIO(wav))
    peaks = np.abs(samples[: len(samples) // buckets * buckets]).reshape(buckets, -1).max(axis=1)
    payload = {
        "peaks": (peaks / peaks.max()).round(3).tolist(),
        "duration": len(samples) / rate,
        "sample_rate": rate,
    }
    return json.dumps(payload).encode()


def media_item(project, external_id, content, suffix, *, precompute=True):
    """An item with its media, and the thumbnail or waveform an import makes, in storage."""
    item = Item(project=project, kind=project.data_type, external_id=external_id, target=project.overlap)
    item.media.save(f"test/{external_id}{suffix}", ContentFile(content), save=False)
    if precompute and project.data_type == "image":
        item.thumbnail.save(f"test/{external_id}.jpg", ContentFile(_thumbnail(content)), save=False)
    if precompute and project.data_type == "audio":
        item.waveform.save(f"test/{external_id}.json", ContentFile(_waveform(content)), save=False)
    item.save()
    return item


def add_labeler(project, username):
    return MembershipFactory(project=project, role=Role.LABELER, user=UserFactory(username=username)).user


def describe_classes(project, descriptions: dict):
    for name, text in descriptions.items():
        LabelClass.objects.filter(schema_version__project=project, name=name).update(description=text)


def open_workspace(page, live_server, project, username):
    login(page, live_server, username)
    page.goto(f"{live_server.url}/projects/{project.id}/label/")


def record_pair(name_left, name_right, **same):
    base = {
        "email": "rsmith@example.com",
        "phone": "+1-555-0142",
        "birth_date": "1984-03-09",
        "city": "Austin",
    }
    base.update(same)
    return {"left": {"name": name_left, **base}, "right": {"name": name_right, **base, "city": "Round Rock"}}
