"""A labeler labels each data type in real Chromium, with the keyboard where shortcuts exist,
and the answers stored in the database are checked."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from labeling.models import Annotation, Assignment, Item, LabelSchemaVersion
from labeling.services.assignments import assignment_reserve_next, leases_reclaim
from labeling.services.submissions import annotation_submit
from tests.browser.conftest import SCREENSHOTS
from tests.browser.workspace_helpers import (
    IMAGE_SIZE,
    SCRATCH,
    add_labeler,
    describe_classes,
    failing_on_javascript_errors,
    media_item,
    open_workspace,
    phone_png,
    record_pair,
    speech_wav,
)
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(page):
    yield from failing_on_javascript_errors(page)


def test_label_an_image_with_two_boxes(page, live_server):
    project = ProjectFactory(
        name="Phone defects (boxes)",
        label_kind="boxes",
        classes=["scratch", "dent"],
        instructions="Draw one box around **each** visible defect, tight to its edges.\n\n"
        "- A scratch is a line; a dent is a rounded, shaded spot.\n- Ignore the camera lens.",
    )
    describe_classes(
        project, {"scratch": "A thin line, light or dark.", "dent": "A rounded, shaded deformation."}
    )
    png, dent = phone_png()
    item = media_item(project, "phone-017", png, ".png")
    labeler = add_labeler(project, "boxer")
    open_workspace(page, live_server, project, "boxer")

    expect(page.locator("#item-name")).to_have_text("phone-017")
    layer = page.locator("#box-layer")
    # Drawing starts once the full image is there: the layer's grid is the image's own pixels.
    expect(layer).to_have_attribute("viewBox", f"0 0 {IMAGE_SIZE[0]} {IMAGE_SIZE[1]}")
    expect(page.locator("#item-image")).not_to_have_class("preview")
    bounds = layer.bounding_box()
    scale = bounds["width"] / IMAGE_SIZE[0]

    def at(x, y):
        return bounds["x"] + x * scale, bounds["y"] + y * scale

    def drag(x0, y0, x1, y1):
        page.mouse.move(*at(x0, y0))
        page.mouse.down()
        page.mouse.move(*at(x1, y1), steps=6)
        page.mouse.up()

    # Box 1 around the dent: 2 chooses the class of the next box; drawn too small on purpose.
    page.keyboard.press("2")
    drag(dent["x"], dent["y"], dent["x"] + dent["w"] - 10, dent["y"] + dent["h"] - 8)
    expect(page.locator("#box-list li")).to_have_count(1)
    expect(page.locator("#box-list li").first).to_contain_text("1. dent")
    # Resize it by its bottom-right handle to the dent's real size.
    page.locator("[data-handle=se]").hover()
    page.mouse.down()
    page.mouse.move(*at(dent["x"] + dent["w"], dent["y"] + dent["h"]), steps=4)
    page.mouse.up()
    # A stray box, deleted with the keyboard.
    drag(60, 60, 110, 100)
    expect(page.locator("#box-list li")).to_have_count(2)
    page.keyboard.press("Delete")
    expect(page.locator("#box-list li")).to_have_count(1)
    # 1 chooses the class of the next box: the scratch (no box is selected after a delete).
    page.keyboard.press("1")
    s = SCRATCH
    drag(s["x"] + 20, s["y"] + 20, s["x"] + s["w"] + 20, s["y"] + s["h"] + 20)
    expect(page.locator("#box-list li")).to_have_count(2)
    expect(page.locator("#box-list li").nth(1)).to_contain_text("2. scratch")
    # It was drawn 20 px off: the arrow keys move the selected box (Shift: 10 px).
    for key in ["Shift+ArrowLeft", "Shift+ArrowLeft", "Shift+ArrowUp", "Shift+ArrowUp"]:
        page.keyboard.press(key)
    # Alt+arrows resize it (and Alt+← does not go back in the browser's history).
    for key in ["Alt+ArrowRight", "Alt+ArrowRight", "Alt+ArrowLeft", "Alt+ArrowLeft", "Alt+ArrowDown"]:
        page.keyboard.press(key)
    expect(page.locator("#box-list li").nth(1)).to_contain_text("140×41 at 250, 300")
    page.keyboard.press("Alt+ArrowUp")
    # Zoom in (the level is the scale against the image's pixels) and back to fit.
    zoom = page.locator("#zoom-level")
    fitted = zoom.inner_text()
    page.keyboard.press("+")
    expect(zoom).not_to_have_text(fitted)
    assert int(zoom.inner_text()[:-1]) == pytest.approx(int(fitted[:-1]) * 1.5, abs=2)
    page.keyboard.press("f")
    expect(zoom).to_have_text(fitted)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "workspace-image.png"))

    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    annotation = Annotation.objects.get(item=item, labeler=labeler)
    boxes = {b["class"]: b for b in annotation.value}
    assert len(annotation.value) == 2 and set(boxes) == {"scratch", "dent"}
    for name, truth in (("dent", dent), ("scratch", SCRATCH)):
        for key in ("x", "y", "w", "h"):
            assert boxes[name][key] == pytest.approx(truth[key], abs=3), (name, key, boxes[name])
    assert annotation.time_spent_ms > 0


def test_transcribe_audio_clips(page, live_server):
    project = ProjectFactory(
        name="Speech: nearest gas station",
        data_type="audio",
        label_kind="transcription",
        classes=[],
        instructions="Transcribe exactly what is said.\n\n"
        "- Use `[unintelligible]` for words you cannot make out.",
    )
    LabelSchemaVersion.objects.filter(project=project).update(
        transcript_rules=[
            {"pattern": "umm+", "replacement": "um", "regex": True},
            {"pattern": "gas stn", "replacement": "gas station"},
        ]
    )
    # One clip with the waveform computed at import, one without: drawn from the decoded audio.
    first = media_item(project, "clip-0001", speech_wav(seed=1), ".wav")
    second = media_item(project, "clip-0002", speech_wav(seed=2), ".wav", precompute=False)
    labeler = add_labeler(project, "typist")
    open_workspace(page, live_server, project, "typist")

    expect(page.locator("#item-name")).to_have_text("clip-0001")
    transcript = page.get_by_role("textbox", name="Transcript")
    waveform = page.get_by_role("slider", name="Playback position")
    expect(waveform).to_be_focused()  # the player: Space plays at once
    expect(page.locator(".rules li")).to_have_count(2)
    expect(waveform).to_have_attribute("aria-valuemax", "3.0")
    # Ctrl+Space plays from within the transcript; Esc leaves the box for the player, where Space pauses.
    page.keyboard.press("t")
    expect(transcript).to_be_focused()
    page.keyboard.press("Control+Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Escape")
    expect(waveform).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    expect(waveform).to_have_attribute("aria-valuenow", "2.0")
    page.keyboard.press("]")
    expect(page.get_by_label("Speed")).to_have_value("1.25")
    page.keyboard.press("t")
    expect(transcript).to_be_focused()
    page.keyboard.type("Um, where is the nearest gas station")
    page.keyboard.press("Control+ArrowLeft")  # seeking from the transcript does not type anything
    expect(waveform).to_have_attribute("aria-valuenow", "0.0")
    page.screenshot(path=str(SCREENSHOTS / "workspace-audio.png"))
    page.keyboard.press("Enter")

    expect(page.locator("#item-name")).to_have_text("clip-0002")
    expect(page.locator("#status")).to_have_text("Saved.")
    expect(waveform).to_be_focused()
    expect(transcript).to_have_value("")
    expect(waveform).to_have_attribute("aria-valuemax", "3.0")
    page.keyboard.press("t")
    page.keyboard.type("call mom")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()

    answers = {a.item_id: a for a in Annotation.objects.filter(labeler=labeler)}
    assert answers[first.id].value == "Um, where is the nearest gas station"
    assert answers[second.id].value == "call mom"
    assert all(a.time_spent_ms > 0 and a.skip_reason == "" for a in answers.values())


def test_answer_record_pairs_with_keys_and_skip_one(page, live_server):
    project = ProjectFactory(
        name="Same person?",
        data_type="record",
        classes=["1", "0", "borderline"],
        instructions="Are these two user records the **same person**?\n\n"
        "- **1**: the same person (nicknames, typos and a moved city are fine).\n"
        "- **0**: two different people, even if the names match.\n"
        "- **borderline**: you cannot tell.",
    )
    describe_classes(project, {"1": "Same person.", "0": "Different people.", "borderline": "Cannot tell."})
    for i, names in enumerate(
        [("Robert Smith", "Bob Smith"), ("Robert Smith", "Roberta Smith"), ("R. Smith", "")]
    ):
        Item.objects.create(
            project=project, kind="record", external_id=f"pair-{i + 1}", data=record_pair(*names), target=3
        )
    labeler = add_labeler(project, "matcher")
    open_workspace(page, live_server, project, "matcher")

    expect(page.locator("#item-name")).to_have_text("pair-1")
    expect(page.locator("tr[data-differs='true']")).to_have_count(2)  # name and city differ
    marks = page.locator("tr.differs mark")  # the differing words, not the whole values
    expect(marks.filter(has_text="Robert")).to_have_count(1)
    expect(marks.filter(has_text="Smith")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "workspace-record.png"))
    page.keyboard.press("1")  # "1": the same person (the key is the class name)
    expect(page.get_by_role("button", name="1 1", exact=True)).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Enter")

    expect(page.locator("#item-name")).to_have_text("pair-2")
    page.keyboard.press("0")
    page.keyboard.press("2")  # borderline replaces 0: one class per item
    expect(page.get_by_role("button", name="2 borderline")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("button", name="0 0", exact=True)).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("c")
    page.keyboard.type("Roberta could be a typo")
    page.keyboard.press("Enter")

    expect(page.locator("#item-name")).to_have_text("pair-3")
    page.keyboard.press("s")
    expect(page.get_by_role("radio", name="The data lacks the information to decide")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    # A skip is not "done": the header counts it apart.
    expect(page.locator("#done-today")).to_have_text("2")
    expect(page.locator("#skipped-today")).to_have_text("1")
    page.reload()  # the server's figures say the same
    expect(page.locator("#skipped-today")).to_have_text("1")
    expect(page.locator("#done-today")).to_have_text("2")

    answers = {
        a.item.external_id: (a.value, a.skip_reason, a.comment)
        for a in Annotation.objects.filter(labeler=labeler)
    }
    assert answers == {
        "pair-1": ("1", "", ""),
        "pair-2": ("borderline", "", "Roberta could be a typo"),
        "pair-3": (None, "lacks_information", ""),
    }


def test_a_lost_response_is_retried_and_stored_once(page, live_server):
    project = ProjectFactory(name="Retry", data_type="record", classes=["1", "0"])
    Item.objects.create(project=project, kind="record", external_id="r-1", data={"a": 1}, target=3)
    labeler = add_labeler(project, "flaky")
    open_workspace(page, live_server, project, "flaky")
    expect(page.locator("#item-name")).to_have_text("r-1")
    keys = []

    def lose_first_response(route):
        keys.append(route.request.headers.get("idempotency-key"))
        response = route.fetch()  # the server stores the answer…
        if len(keys) == 1:
            route.abort()  # …but the browser never hears back
        else:
            route.fulfill(response=response)

    page.route("**/api/items/*/annotations/", lose_first_response)
    page.keyboard.press("0")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    assert len(keys) == 2 and keys[0] == keys[1]
    assert list(Annotation.objects.filter(labeler=labeler).values_list("value", flat=True)) == ["0"]


def test_a_conflict_moves_on_and_errors_show_inline(page, live_server):
    project = ProjectFactory(name="Conflicts", data_type="record", classes=["1", "0"])
    for name in ("c-1", "c-2"):
        Item.objects.create(project=project, kind="record", external_id=name, data={"a": name}, target=1)
    late = add_labeler(project, "late")
    open_workspace(page, live_server, project, "late")
    expect(page.locator("#item-name")).to_have_text("c-1")
    page.keyboard.press("Enter")  # nothing chosen yet: said inline, nothing sent
    expect(page.get_by_role("alert")).to_contain_text("Choose a class first")
    # The lease runs out, and another labeler takes and answers the only slot of c-1.
    Assignment.objects.filter(labeler=late).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    leases_reclaim(project=project)
    other = add_labeler(project, "early")
    taken = assignment_reserve_next(project=project, labeler=other)
    annotation_submit(item_id=taken.item_id, labeler=other, value="0")
    page.keyboard.press("1")
    page.keyboard.press("Enter")  # 409 from the server: the workspace moves on to the next item
    expect(page.locator("#item-name")).to_have_text("c-2")
    expect(page.locator("#status")).to_contain_text("already has all its answers")
    # A 400 (here faked) is shown inline and the item stays, with its answer.
    invalid = {"error": {"code": "invalid", "message": "Unknown class.", "fields": {"value": ["Pick one."]}}}
    page.route(
        "**/api/items/*/annotations/",
        lambda route: route.fulfill(status=400, content_type="application/json", body=json.dumps(invalid)),
    )
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Unknown class. Pick one.")
    expect(page.locator("#item-name")).to_have_text("c-2")
    expect(page.get_by_role("button", name="1 1", exact=True)).to_have_attribute("aria-pressed", "true")
    assert not Annotation.objects.filter(labeler=late).exists()


def test_help_overlay_opens_with_question_mark(page, live_server):
    project = ProjectFactory(name="Help", data_type="record", classes=["1", "0"])
    add_labeler(project, "curious")
    open_workspace(page, live_server, project, "curious")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
