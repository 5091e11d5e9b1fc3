"""A labeler labels each data type in real Chromium, with the keyboard where shortcuts exist."""

import io

import numpy as np
import pytest
import soundfile as sf
from django.core.files.base import ContentFile
from PIL import Image
from playwright.sync_api import expect

from labeling.models import Annotation, Item, Role
from tests.browser.conftest import SCREENSHOTS, login
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _png(width=320, height=240) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (120, 130, 140)).save(buffer, "PNG")
    return buffer.getvalue()


def _wav(seconds=1.5, rate=16_000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buffer = io.BytesIO()
    sf.write(buffer, 0.3 * np.sin(2 * np.pi * 220 * t), rate, format="WAV")
    return buffer.getvalue()


def _media_item(project, external_id, content, suffix):
    item = Item(project=project, kind=project.data_type, external_id=external_id, target=project.overlap)
    item.media.save(f"test/{external_id}{suffix}", ContentFile(content), save=False)
    item.save()
    return item


def _labeler(project, username):
    return MembershipFactory(project=project, role=Role.LABELER, user=UserFactory(username=username)).user


def test_label_an_image_with_two_boxes(page, live_server):
    project = ProjectFactory(name="Boxes", label_kind="boxes", classes=["scratch", "dent"])
    item = _media_item(project, "phone-1", _png(), ".png")
    labeler = _labeler(project, "boxer")
    login(page, live_server, "boxer")
    page.goto(f"{live_server.url}/projects/{project.id}/label/")
    expect(page.locator("#item-name")).to_have_text("phone-1")
    layer = page.locator(".box-layer")
    expect(layer).to_be_visible()
    # The drawing layer learns the image's size when the full image has loaded.
    expect(layer).to_have_attribute("viewBox", "0 0 320 240")
    box = layer.bounding_box()
    scale = box["width"] / 320

    def drag(x0, y0, x1, y1):
        page.mouse.move(box["x"] + x0 * scale, box["y"] + y0 * scale)
        page.mouse.down()
        page.mouse.move(box["x"] + x1 * scale, box["y"] + y1 * scale, steps=5)
        page.mouse.up()

    page.keyboard.press("1")  # the next box is a scratch
    drag(20, 30, 120, 80)
    expect(page.locator("#box-list li")).to_have_count(1)
    page.keyboard.press("Escape")  # deselect box 1, so the key below picks the class of the next box
    page.keyboard.press("2")
    drag(200, 150, 260, 200)
    expect(page.locator("#box-list li")).to_have_count(2)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "workspace-image.png"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    value = Annotation.objects.get(item=item, labeler=labeler).value
    assert len(value) == 2
    assert {b["class"] for b in value} == {"scratch", "dent"}
    first = next(b for b in value if b["class"] == "scratch")
    assert first["x"] == pytest.approx(20, abs=3) and first["w"] == pytest.approx(100, abs=4)


def test_transcribe_an_audio_clip(page, live_server):
    project = ProjectFactory(name="Speech", data_type="audio", label_kind="transcription", classes=[])
    items = [_media_item(project, f"clip-{i}", _wav(), ".wav") for i in range(2)]
    labeler = _labeler(project, "typist")
    login(page, live_server, "typist")
    page.goto(f"{live_server.url}/projects/{project.id}/label/")
    expect(page.locator("canvas.waveform")).to_be_visible()
    textbox = page.get_by_label("Transcript")
    expect(textbox).to_be_focused()
    page.keyboard.type("Um, nearest gas station")
    page.screenshot(path=str(SCREENSHOTS / "workspace-audio.png"))
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("Saved.")
    page.keyboard.type("call mom")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    values = dict(Annotation.objects.filter(labeler=labeler).values_list("item__external_id", "value"))
    assert values == {items[0].external_id: "Um, nearest gas station", items[1].external_id: "call mom"}
    assert all(t > 0 for t in Annotation.objects.values_list("time_spent_ms", flat=True))


def test_answer_record_pairs_and_skip_one(page, live_server):
    project = ProjectFactory(name="Same person?", data_type="record", classes=["1", "0", "borderline"])
    pair = {
        "left": {"name": "Robert Smith", "city": "Austin"},
        "right": {"name": "Bob Smith", "city": "Austin"},
    }
    Item.objects.create(project=project, kind="record", external_id="pair-1", data=pair, target=3)
    Item.objects.create(project=project, kind="record", external_id="pair-2", data=pair, target=3)
    labeler = _labeler(project, "matcher")
    login(page, live_server, "matcher")
    page.goto(f"{live_server.url}/projects/{project.id}/label/")
    expect(page.locator("tr[data-differs='true']")).to_have_count(1)  # name differs, city does not
    page.screenshot(path=str(SCREENSHOTS / "workspace-record.png"))
    page.keyboard.press("1")
    expect(page.get_by_role("button", name="1 1")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("Saved.")
    page.keyboard.press("s")
    expect(page.get_by_label("Why skip?")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    answers = {
        a.item.external_id: (a.value, a.skip_reason) for a in Annotation.objects.filter(labeler=labeler)
    }
    assert answers == {"pair-1": ("1", ""), "pair-2": (None, "lacks_information")}


def test_help_overlay_opens_with_question_mark(page, live_server):
    project = ProjectFactory(name="Help", data_type="record", classes=["1", "0"])
    _labeler(project, "curious")
    login(page, live_server, "curious")
    page.goto(f"{live_server.url}/projects/{project.id}/label/")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
