"""The README's tour, step by step, in Chromium on the demo data. Each step first checks that the
README still says what the step does (the sentences quoted below), then does it: the tour can't
drift from the app without this test failing."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from demo.services import DEMO_PASSWORD, demo_load
from labeling.models import Project
from tests.browser.conftest import SCREENSHOTS, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

README = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())


def says(*sentences: str) -> None:
    for sentence in sentences:
        assert " ".join(sentence.split()) in README, f"the README no longer says: {sentence!r}"


def _project(name: str) -> Project:
    return Project.objects.get(name=name)


def step_set_up(page, server):
    url = server.url
    says(
        "log in as `manager`. The projects list shows each project's progress bar, the alpha of its "
        "latest run with its trend, and its open disagreements.",
        "*New project* asks for the data type, the label kind, the classes (each with a description, a "
        "colour and a hotkey) and the instructions in markdown, with a live preview",
        "*People* adds members by username or e-mail with a role",
        "staff create an account there with a password or an invite link, shown once",
        "*Settings* changes the overlap k (or the adaptive overlap), the gold share, the consensus "
        "method, the lease and the alarm thresholds",
    )
    login(page, server, "manager", DEMO_PASSWORD)
    for name in ("Phone defects", "Phone defects: boxes", "Speech: nearest gas station", "Same person?"):
        row = page.get_by_role("row", name=re.compile(f"^{re.escape(name)} "))
        expect(row.get_by_role("progressbar")).to_have_count(1)
        expect(row.locator("td.num a").first).to_have_text(re.compile(r"^-?[01]\.\d{3}$"))  # alpha
    page.screenshot(path=str(SCREENSHOTS / "projects.png"))
    page.get_by_role("link", name="New project").click()
    for field in (
        "Data type",
        "Label kind",
        "Class 1 name",
        "Class 1 description",
        "Class 1 colour",
        "Class 1 hotkey",
    ):
        expect(page.get_by_label(field)).to_be_visible()
    page.get_by_label("Instructions (markdown, shown to labelers)").type("Mark the *worst* defect")
    expect(page.locator(".md-preview em")).to_have_text("worst")
    defects = _project("Phone defects")
    page.goto(f"{url}/projects/{defects.id}/")
    page.get_by_role("link", name="People").click()
    page.get_by_label("Username", exact=True).type("newcomer")
    page.get_by_role("button", name="Create and add").click()
    expect(page.locator("#secret-password")).to_be_visible()
    page.get_by_role("link", name="Settings").click()
    for field in (
        "Overlap k (answers per item)",
        "Overlap policy",
        "Gold share of a labeler's stream (0 to 1)",
        "Consensus method",
        "Lease: seconds a reserved item stays with a labeler",
        "Alarm when the skip rate is over",
    ):
        expect(page.get_by_label(field)).to_be_visible()
    page.get_by_label("Gold share of a labeler's stream (0 to 1)").fill("0.2")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    page.get_by_role("button", name="Log out").click()


def step_label(page, server):
    says(
        "log in as `labeler1`, open a project, *Start labeling*. Number keys pick a class, Enter submits "
        "and brings the next item"
    )
    login(page, server, "labeler1", DEMO_PASSWORD)
    page.get_by_role("link", name="Phone defects", exact=True).click()
    page.get_by_role("link", name="Start labeling").click()
    name = page.locator("#item-name")
    expect(name).not_to_have_text("…")
    first = name.inner_text()
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(name).not_to_have_text(first)
    page.get_by_role("button", name="Log out").click()


def step_measure(page, server):
    url = server.url
    says(
        "*Agreement* shows Krippendorff's alpha with its interval",
        "In **Phone defects** deep and shallow scratch stand out; in **Phone defects: boxes** boxes are "
        "matched by IoU",
    )
    login(page, server, "manager", DEMO_PASSWORD)
    page.goto(f"{url}/projects/{_project('Phone defects').id}/agreement/")
    expect(page.get_by_role("cell", name="deep scratch").first).to_be_visible()
    page.goto(f"{url}/projects/{_project('Phone defects: boxes').id}/agreement/")
    expect(page.get_by_text("mean IoU of matched boxes")).to_be_visible()


def step_improve(page, server):
    url = server.url
    says(
        "*Definitions* suggests merging deep and shallow scratch with the projected gain; preview it",
        "In the speech project, add a rule `Umm` → `Um` and preview how many transcripts it changes.",
        "As `reviewer`, work the *Review queue*",
        "resolve (it becomes gold)",
    )
    page.goto(f"{url}/projects/{_project('Phone defects').id}/definitions/")
    page.get_by_role("button", name="Preview this merge").first.click()
    expect(
        page.get_by_role("heading", name=re.compile("What if: merge deep scratch, shallow scratch"))
    ).to_be_visible()
    page.goto(f"{url}/projects/{_project('Speech: nearest gas station').id}/definitions/")
    page.get_by_label("Find", exact=True).type("Umm")
    page.get_by_label("Replace with", exact=True).type("Um")
    page.get_by_role("button", name="Preview").first.click()
    changed = page.locator("dt:has-text('Answers read differently') + dd")
    assert int(changed.inner_text()) > 0
    page.get_by_role("button", name="Log out").click()
    login(page, server, "reviewer", DEMO_PASSWORD)
    page.goto(f"{url}/projects/{_project('Phone defects').id}/review/")
    page.locator("tbody a").first.click()
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    shown = page.locator("h1 code").inner_text()
    page.keyboard.press("1")
    page.keyboard.press("r")
    expect(page.get_by_text(f"Item {shown} resolved (now gold).")).to_be_visible()
    page.get_by_role("button", name="Log out").click()


def step_data(page, server):
    url = server.url
    says(
        "*Items* lists every item, a page at a time, filtered by status",
        "Fields whose name starts with `_` (the demo's generated answers) stay hidden.",
    )
    login(page, server, "manager", DEMO_PASSWORD)
    page.goto(f"{url}/projects/{_project('Phone defects').id}/")
    page.get_by_role("link", name="Items", exact=True).click()
    expect(page.locator("tbody tr")).to_have_count(24)
    expect(page.get_by_text("_generated_defect")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "items.png"))
    page.get_by_label("Status").select_option("gold")
    page.get_by_role("button", name="Filter").click()
    gold = _project("Phone defects").items.filter(is_gold=True).count()
    assert gold >= 3  # three imported as gold, and the item resolved in step 4
    expect(page.locator("tbody tr")).to_have_count(gold)


def step_deliver(page, server):
    url = server.url
    says(
        "*Export* picks the format (JSONL, CSV, Parquet, COCO, Label Studio), the consensus method, a "
        "split such as `train:80,dev:10,test:10` with a seed",
        "*Preview* counts the rows and the class balance of each split before you download.",
        "the `curl` line beside the button does the same from a script.",
    )
    page.goto(f"{url}/projects/{_project('Same person?').id}/")
    page.get_by_role("link", name="Export").click()
    page.get_by_label("Split (name:percent, …)").type("train:80,dev:10,test:10")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#export-error")).to_have_count(0)
    heading = page.get_by_role("heading", name=re.compile(r"^Preview: \d+ rows$"))
    rows = int(heading.inner_text().split()[1])
    expect(page.get_by_text(re.compile(r"^dev: \d+ rows$"))).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "export.png"), full_page=True)
    expect(page.locator("#curl-export")).to_contain_text("split=train%3A80%2Cdev%3A10%2Ctest%3A10")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert rows > 30 and len(download.value.path().read_text().splitlines()) == rows


def step_api_docs(page, server):
    url = server.url
    says("`http://127.0.0.1:8000/api/docs/` is the browsable API")
    page.goto(f"{url}/api/docs/")
    expect(page.locator("#swagger-ui")).to_be_visible()


def test_readme_tour(page, live_server, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        demo_load()
    for step in (step_set_up, step_label, step_measure, step_improve, step_data, step_deliver, step_api_docs):
        step(page, live_server)
