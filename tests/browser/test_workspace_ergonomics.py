"""The labeler's hands in real Chromium: going back to change an answer, box class keys, the
audio player's focus and a safe Skip, and pre-labels from a model. Real keystrokes and mouse
moves; the answers stored in the database are checked."""

import pytest
from playwright.sync_api import expect

from consistency.models import Prediction
from labeling.models import Annotation, Item, PrelabelExposure
from tests.browser.workspace_helpers import (
    IMAGE_SIZE,
    SCRATCH,
    add_labeler,
    media_item,
    open_workspace,
    phone_png,
    record_pair,
    speech_wav,
)
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _records(project, n):
    names = [
        ("Robert Smith", "Bob Smith"),
        ("Ann Lee", "Anna Lee"),
        ("Li Wei", "Wei Li"),
        ("Jo Park", "J. Park"),
    ]
    return [
        Item.objects.create(
            project=project, kind="record", external_id=f"pair-{i + 1}", data=record_pair(*names[i]), target=3
        )
        for i in range(n)
    ]


def _pressed(page, name):
    return page.locator(f".choice[data-class='{name}']")


def test_going_back_changes_an_answer_and_keeps_the_earlier_one(page, live_server):
    project = ProjectFactory(name="Same person?", data_type="record", classes=["1", "0", "borderline"])
    first, second, _ = _records(project, 3)
    labeler = add_labeler(project, "undoer")
    open_workspace(page, live_server, project, "undoer")
    expect(page.locator("#item-name")).to_have_text("pair-1")
    expect(page.get_by_role("button", name="← Back")).to_be_disabled()  # nothing answered yet
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(page.locator("#item-name")).to_have_text("pair-2")
    page.keyboard.press("0")
    page.keyboard.press("Enter")
    expect(page.locator("#item-name")).to_have_text("pair-3")

    # u goes back to pair-2, with my answer chosen; Backspace goes one further, to pair-1.
    page.keyboard.press("u")
    expect(page.locator("#item-name")).to_have_text("pair-2")
    expect(page.locator("#revisit")).to_be_visible()
    expect(_pressed(page, "0")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Backspace")
    expect(page.locator("#item-name")).to_have_text("pair-1")
    expect(page.locator("#revisit-was")).to_have_text("“1”")
    expect(_pressed(page, "1")).to_have_attribute("aria-pressed", "true")
    # Change it: Enter saves and brings back the item I was on.
    page.keyboard.press("2")  # borderline
    page.keyboard.press("Enter")
    expect(page.locator("#item-name")).to_have_text("pair-3")
    expect(page.locator("#status")).to_have_text("Changed your answer on pair-1.")
    expect(page.locator("#revisit")).to_be_hidden()
    # Going back and Esc returns without changing anything.
    page.keyboard.press("u")
    expect(page.locator("#item-name")).to_have_text("pair-2")
    page.keyboard.press("Escape")
    expect(page.locator("#item-name")).to_have_text("pair-3")
    # A change is not a new answer: two done today, as before.
    expect(page.locator("#done-today")).to_have_text("2")

    history = list(Annotation.objects.filter(item=first).order_by("id").values_list("value", "is_current"))
    assert history == [("1", False), ("borderline", True)]
    assert list(Annotation.objects.filter(item=second).values_list("value", "is_current")) == [("0", True)]
    assert Annotation.objects.filter(labeler=labeler).count() == 3


def test_box_class_keys_set_the_next_box_and_a_picked_box(page, live_server):
    project = ProjectFactory(name="Phone defects (boxes)", label_kind="boxes", classes=["scratch", "dent"])
    png, dent = phone_png()
    item = media_item(project, "phone-021", png, ".png")
    labeler = add_labeler(project, "boxkeys")
    open_workspace(page, live_server, project, "boxkeys")
    layer = page.locator("#box-layer")
    expect(layer).to_have_attribute("viewBox", f"0 0 {IMAGE_SIZE[0]} {IMAGE_SIZE[1]}")
    bounds = layer.bounding_box()
    scale = bounds["width"] / IMAGE_SIZE[0]

    def at(x, y):
        return bounds["x"] + x * scale, bounds["y"] + y * scale

    def drag(box):
        page.mouse.move(*at(box["x"], box["y"]))
        page.mouse.down()
        page.mouse.move(*at(box["x"] + box["w"], box["y"] + box["h"]), steps=6)
        page.mouse.up()

    boxes = page.locator("#box-list li")
    page.keyboard.press("1")
    drag(SCRATCH)
    page.keyboard.press("2")  # the class of the next box: the scratch just drawn keeps its class
    expect(page.locator("#choices-legend")).to_have_text("Class of the next box")
    drag(dent)
    expect(boxes).to_have_count(2)
    expect(boxes.nth(0)).to_contain_text("1. scratch")
    expect(boxes.nth(1)).to_contain_text("2. dent")

    # Picking an existing box (a click inside it) and pressing a key re-classes it, visibly.
    page.mouse.click(*at(SCRATCH["x"] + SCRATCH["w"] / 2, SCRATCH["y"] + SCRATCH["h"] / 2))
    expect(page.locator("#choices-legend")).to_have_text("Class of box 1")
    expect(page.get_by_role("button", name="1 scratch")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("2")
    expect(boxes.nth(0)).to_contain_text("1. dent")
    expect(page.locator("#status")).to_have_text("Box 1: scratch → dent.")
    expect(page.locator("#box-layer g.reclassed")).to_have_count(1)
    page.keyboard.press("Escape")  # deselect; 1 is again the next box's class
    page.keyboard.press("1")
    expect(boxes.nth(0)).to_contain_text("1. dent")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    value = Annotation.objects.get(item=item, labeler=labeler).value
    assert sorted(b["class"] for b in value) == ["dent", "dent"]


def test_audio_starts_on_the_player_and_typing_never_skips(page, live_server):
    project = ProjectFactory(name="Speech", data_type="audio", label_kind="transcription", classes=[])
    first = media_item(project, "clip-0101", speech_wav(seed=4), ".wav")
    second = media_item(project, "clip-0102", speech_wav(seed=5), ".wav")
    labeler = add_labeler(project, "careful")
    open_workspace(page, live_server, project, "careful")
    expect(page.locator("#item-name")).to_have_text("clip-0101")
    waveform = page.get_by_role("slider", name="Playback position")
    transcript = page.get_by_role("textbox", name="Transcript")
    expect(waveform).to_be_focused()
    expect(waveform).to_have_attribute("aria-valuemax", "3.0")
    page.keyboard.press("?")  # help opens from the player
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(waveform).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "false")

    # In the transcript no shortcut fires, whatever is typed.
    page.keyboard.press("t")
    text = "so she said u 1 c t ? s"
    page.keyboard.type(text)
    expect(transcript).to_have_value(text)
    expect(page.locator("#skip-panel")).to_be_hidden()
    expect(page.get_by_role("dialog")).to_be_hidden()
    # Esc, then typing on: "s" does not open Skip, and Enter submits the transcript.
    page.keyboard.press("Escape")
    page.keyboard.type("so")
    expect(page.locator("#skip-panel")).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("press Shift+S to skip")
    page.keyboard.press("Enter")
    expect(page.locator("#item-name")).to_have_text("clip-0102")
    # Skipping on purpose still works: a bare s once nothing was typed, Shift+S right after typing.
    page.keyboard.press("t")
    page.keyboard.type("noise")
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+S")
    expect(page.locator("#skip-panel")).to_be_visible()
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    answers = {a.item_id: (a.value, a.skip_reason) for a in Annotation.objects.filter(labeler=labeler)}
    assert answers == {first.id: (text, ""), second.id: (None, "broken_media")}


def test_prelabels_are_prefilled_and_accepted_with_enter(page, live_server):
    project = ProjectFactory(name="Same person?", data_type="record", classes=["1", "0", "borderline"])
    project.prelabels, project.prelabel_holdout = True, 0.0
    project.save()
    first, second = _records(project, 2)
    Prediction.objects.create(project=project, item=first, model_version="matcher-v2", value="0")
    labeler = add_labeler(project, "anchored")
    open_workspace(page, live_server, project, "anchored")
    expect(page.locator("#item-name")).to_have_text("pair-1")
    expect(page.locator("#suggestion-note")).to_contain_text("matcher-v2")
    expect(_pressed(page, "0")).to_have_attribute("aria-pressed", "true")
    expect(_pressed(page, "0")).to_have_class("choice suggested")
    page.keyboard.press("Enter")  # accept
    expect(page.locator("#item-name")).to_have_text("pair-2")
    expect(page.locator("#suggestion-note")).to_be_hidden()  # no prediction for this one
    expect(page.locator(".choice[aria-pressed='true']")).to_have_count(0)
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    answers = dict(Annotation.objects.filter(labeler=labeler).values_list("item_id", "value"))
    assert answers == {first.id: "0", second.id: "1"}
    assert PrelabelExposure.objects.get().shown is True


def test_prelabel_boxes_and_transcripts_are_drawn_and_typed_for_correction(page, live_server):
    boxes = ProjectFactory(name="Boxes", label_kind="boxes", classes=["scratch", "dent"])
    boxes.prelabels, boxes.prelabel_holdout = True, 0.0
    boxes.save()
    png, dent = phone_png()
    image = media_item(boxes, "phone-031", png, ".png")
    suggested = [{**dent, "class": "dent"}, {**SCRATCH, "class": "dent"}]  # the model got one class wrong
    Prediction.objects.create(project=boxes, item=image, model_version="det-1", value=suggested)
    labeler = add_labeler(boxes, "corrector")
    open_workspace(page, live_server, boxes, "corrector")
    rows = page.locator("#box-list li")
    expect(rows).to_have_count(2)
    rows.nth(1).get_by_role("button").first.click()  # pick box 2 and correct its class
    page.keyboard.press("1")
    expect(rows.nth(1)).to_contain_text("2. scratch")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    value = Annotation.objects.get(item=image, labeler=labeler).value
    assert [b["class"] for b in value] == ["dent", "scratch"]
    assert value[0] == {**dent, "class": "dent"}

    speech = ProjectFactory(name="Speech", data_type="audio", label_kind="transcription", classes=[])
    speech.prelabels, speech.prelabel_holdout = True, 0.0
    speech.save()
    clip = media_item(speech, "clip-0201", speech_wav(seed=6), ".wav")
    Prediction.objects.create(
        project=speech, item=clip, model_version="asr-3", value="where is the gas stations"
    )
    from labeling.models import ProjectMembership, Role

    ProjectMembership.objects.create(project=speech, user=labeler, role=Role.LABELER)
    page.goto(f"{live_server.url}/projects/{speech.id}/label/")
    transcript = page.get_by_role("textbox", name="Transcript")
    expect(transcript).to_have_value("where is the gas stations")
    page.keyboard.press("t")
    page.keyboard.press("End")
    page.keyboard.press("Backspace")  # "stations" → "station"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    assert Annotation.objects.get(item=clip).value == "where is the gas station"
