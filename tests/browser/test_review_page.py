"""The reviewer's item page in Chromium: one key per action and the next item after each, the
consensus preselected, statuses in people's words, and the labeling workspace's renderers
(record-pair differences, waveform player, every labeler's boxes in their colour, the transcript
starting from the medoid)."""

import pytest
from playwright.sync_api import expect

from consistency.models import Review
from labeling.models import Item, Role
from labeling.services.assignments import assignment_reserve_next
from labeling.services.submissions import annotation_submit
from tests.browser.conftest import login
from tests.browser.workspace_helpers import SCRATCH, media_item, phone_png, record_pair, speech_wav
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.helpers import agreement_run_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _answer(project, items, answers):
    """answers[i][j]: labeler j's answer on items[i]; every labeler answers every item."""
    labelers = [MembershipFactory(project=project, role=Role.LABELER).user for _ in range(len(answers[0]))]
    for j, user in enumerate(labelers):
        for _ in items:
            assignment = assignment_reserve_next(project=project, labeler=user)
            annotation_submit(
                item_id=assignment.item_id, labeler=user, value=answers[items.index(assignment.item)][j]
            )
    return labelers


def _open(page, live_server, project, item):
    MembershipFactory(project=project, role=Role.REVIEWER, user=UserFactory(username="sme"))
    login(page, live_server, "sme")
    page.goto(f"{live_server.url}/projects/{project.id}/review/{item.id}/")
    expect(page.locator("body[data-ready=true]")).to_have_count(1)


def test_each_action_has_a_key_and_opens_the_next_item(page, live_server):
    project = ProjectFactory(name="Phone defects", overlap=3)
    # A tie (two labelers only) first in the queue, then the disagreeing items.
    labelers, items = label(project, ANSWERS)
    tie = Item.objects.create(project=project, kind="image", external_id="tie-1", target=3)
    for user, value in zip(labelers[:2], ["dent", "none"], strict=True):
        assert assignment_reserve_next(project=project, labeler=user).item_id == tie.id
        annotation_submit(item_id=tie.id, labeler=user, value=value)
    agreement_run_now(project)
    _open(page, live_server, project, tie)
    consensus = page.locator("#consensus-line")
    expect(consensus).to_contain_text("No consensus: the answers tie")
    expect(page.locator(".choice[aria-pressed=true]")).to_have_count(0)  # nothing to start from
    expect(page.locator("#review-status")).to_contain_text("waiting for 1 more label")  # k = 3, two answers

    queue = [tie, items[0], items[1], items[4], items[5]]  # ties first, then by disagreement, then id

    def heading(item):
        return page.get_by_role("heading", name=f"Item {item.external_id}")

    page.keyboard.press("r")  # nothing chosen on a tie: said, nothing sent
    expect(page.get_by_role("alert")).to_contain_text("Choose the final answer first")
    page.keyboard.press("m")  # more labels
    expect(heading(queue[1])).to_be_visible()
    expect(page.get_by_text(f"Item {tie.external_id} sent back for one more label.")).to_be_visible()
    # The consensus is preselected: r resolves with it.
    expect(page.locator(".choice[aria-pressed=true] .choice-name")).to_have_text("deep scratch")
    expect(consensus).to_contain_text("Consensus (majority vote): deep scratch")
    page.keyboard.press("r")
    expect(heading(queue[2])).to_be_visible()
    page.keyboard.press("x")  # lacks information
    expect(heading(queue[3])).to_be_visible()
    page.keyboard.press("e")  # example
    expect(heading(queue[4])).to_be_visible()

    tie.refresh_from_db()
    assert tie.target == 4
    reviews = {r.item_id: r for r in Review.objects.all()}
    assert reviews[queue[1].id].status == "resolved" and reviews[queue[1].id].final_value == "deep scratch"
    assert reviews[queue[2].id].status == "lacks_information"
    assert reviews[queue[3].id].is_example
    # The queue in people's words.
    page.goto(f"{live_server.url}/projects/{project.id}/review/")
    rows = page.locator("tbody tr")
    expect(rows.filter(has_text=queue[2].external_id)).to_contain_text("lacks information")
    expect(page.get_by_text("lacks_information")).to_have_count(0)
    expect(rows.filter(has_text=tie.external_id)).to_contain_text("no consensus: the answers tie")
    expect(rows.filter(has_text=tie.external_id)).to_contain_text("waiting for labels")
    expect(rows.filter(has_text=queue[1].external_id)).to_contain_text("resolved")


def test_record_pairs_are_shown_with_their_differences(page, live_server):
    project = ProjectFactory(name="Same person?", data_type="record", classes=["1", "0", "borderline"])
    items = [
        Item.objects.create(
            project=project, kind="record", external_id=f"pair-{i}", data=record_pair(*names), target=3
        )
        for i, names in enumerate([("Robert Smith", "Bob Smith"), ("Ann Lee", "Anna Lee")])
    ]
    _answer(project, items, [["1", "1", "0"], ["0", "0", "0"]])
    agreement_run_now(project)
    _open(page, live_server, project, items[0])
    expect(page.locator("tr[data-differs='true']")).to_have_count(2)  # name and city, as labelers saw it
    expect(page.locator("tr.differs mark").filter(has_text="Robert")).to_have_count(1)
    expect(page.get_by_text("{'left'")).to_have_count(0)  # no raw Python dict
    expect(page.locator(".choice[aria-pressed=true] .choice-name")).to_have_text("1")


def test_boxes_are_drawn_per_labeler_and_the_final_boxes_start_from_the_consensus(page, live_server):
    project = ProjectFactory(name="Boxes", label_kind="boxes", classes=["scratch", "dent"])
    png, dent = phone_png()
    item = media_item(project, "phone-041", png, ".png")
    scratch = {**SCRATCH, "class": "scratch"}
    shifted = {**SCRATCH, "x": SCRATCH["x"] + 6, "class": "scratch"}
    answers = [
        [
            [{**dent, "class": "dent"}, scratch],
            [{**dent, "class": "dent"}, shifted],
            [{**dent, "class": "scratch"}],
        ]
    ]
    labelers = _answer(project, [item], answers)
    agreement_run_now(project)
    _open(page, live_server, project, item)
    layer = page.locator("#answers-layer")
    expect(layer.locator("g.labeler-boxes")).to_have_count(3)
    colors = [
        layer.locator(f"g[data-labeler='{u.username}'] rect").first.evaluate("r => r.style.stroke")
        for u in labelers
    ]
    assert len(set(colors)) == 3  # each labeler in their own colour
    expect(layer.locator(f"g[data-labeler='{labelers[2].username}'] rect")).to_have_count(1)
    editor_boxes = page.locator("#box-layer g.box")
    expect(editor_boxes).to_have_count(2)  # the consensus: the dent and the scratch
    page.get_by_label(labelers[2].username).uncheck()  # hide one labeler's boxes
    expect(layer.locator(f"g[data-labeler='{labelers[2].username}']")).to_be_hidden()
    page.keyboard.press("r")
    expect(page.get_by_text(f"Item {item.external_id} resolved (now gold).")).to_be_visible()
    item.refresh_from_db()
    assert item.is_gold and sorted(b["class"] for b in item.gold_value) == ["dent", "scratch"]


def test_audio_has_the_player_and_the_transcript_starts_from_the_medoid(page, live_server):
    project = ProjectFactory(name="Speech", data_type="audio", label_kind="transcription", classes=[])
    item = media_item(project, "clip-0301", speech_wav(seed=7), ".wav")
    _answer(project, [item], [["call mom now", "call mom now", "call tom now"]])
    agreement_run_now(project)
    _open(page, live_server, project, item)
    waveform = page.get_by_role("slider", name="Playback position")
    expect(waveform).to_have_attribute("aria-valuemax", "3.0")
    page.keyboard.press("Space")
    expect(page.locator("#play")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Space")
    final = page.get_by_label("Final transcript")
    expect(final).to_have_value("call mom now")
    expect(page.locator(".answers mark")).to_have_text(["tom"])  # the word that differs from the consensus
    final.click()
    page.keyboard.press("End")
    page.keyboard.type(" please")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_text(f"Item {item.external_id} resolved (now gold).")).to_be_visible()
    item.refresh_from_db()
    assert item.gold_value == "call mom now please"
