"""The whole loop in Chromium, with pages only (no API call typed, no admin page): a manager
creates a project, adds two labelers and a reviewer, imports a zip of images with a metadata CSV;
the labelers label with the keyboard; the manager measures; the reviewer resolves the ties; the
manager merges the classes people can't tell apart, then downloads a split export and a snapshot,
which are read back row by row."""

import json
import re
import zipfile

import pytest
from playwright.sync_api import expect

from labeling.models import Item, Project
from tests.browser.conftest import first_login, login
from tests.factories import UserFactory
from tests.labeling.imports.samples import png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each labeler's answer per image (keys: 1 deep scratch, 2 shallow scratch, 3 dent).
ANSWERS = {
    "lab1": {"a.png": "1", "b.png": "1", "c.png": "3", "d.png": "2"},
    "lab2": {"a.png": "1", "b.png": "2", "c.png": "1", "d.png": "1"},
}
# The reviewer settles c (dent or deep scratch?); b and d (deep or shallow?) the merge settles.
REVIEWED = {"c.png": "3"}
AFTER_MERGE = {"a.png": "scratch", "b.png": "scratch", "c.png": "dent", "d.png": "scratch"}


def _files(tmp_path):
    archive = tmp_path / "phones.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i, name in enumerate(sorted(ANSWERS["lab1"])):
            z.writestr(name, png(color=(40 * i, 90, 120)))
    sidecar = tmp_path / "slices.csv"
    sidecar.write_text("file,camera\na.png,C1\nb.png,C1\nc.png,C2\nd.png,C2\n")
    return [str(archive), str(sidecar)]


def _create_project(page):
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name", exact=True).type("Phones, the whole loop")
    page.get_by_label("Data type").select_option("image")
    page.get_by_label("Overlap k").fill("2")
    for n, name in enumerate(["deep scratch", "shallow scratch", "dent"], start=1):
        page.get_by_label(f"Class {n} name").type(name)
    page.get_by_label("Instructions (markdown, shown to labelers)").type("The **worst** defect.")
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()


def _add_person(page, username: str, role: str) -> str:
    page.get_by_label("Username", exact=True).type(username)
    page.get_by_label("Role in this project").select_option(role)
    page.get_by_role("button", name="Create and add").click()
    return page.locator("#secret-password").inner_text()


def _label(page, live_server, project, username, password, files):
    first_login(page, live_server, username, password, f"{username}-own-pass-77")
    page.get_by_role("link", name=project.name).click()
    page.get_by_role("link", name="Start labeling").click()
    name = page.locator("#item-name")
    for _ in ANSWERS[username]:
        expect(name).not_to_have_text("…")
        shown = name.inner_text()
        page.keyboard.press(ANSWERS[username][files[shown]])
        page.keyboard.press("Enter")
        expect(name).not_to_have_text(shown)
    page.get_by_role("button", name="Log out").click()


def test_a_project_from_creation_to_a_checked_snapshot(page, live_server, tmp_path):
    UserFactory(username="mle", is_staff=True)
    login(page, live_server, "mle")
    _create_project(page)
    project = Project.objects.get(name="Phones, the whole loop")
    page.get_by_role("link", name="People").click()
    passwords = {name: _add_person(page, name, "labeler") for name in ANSWERS}
    passwords["sme"] = _add_person(page, "sme", "reviewer")

    page.goto(f"{live_server.url}/projects/{project.id}/")
    page.get_by_role("link", name="Data").click()
    # The link's page loads its upload module after the click returns: files set before it
    # listens are never sent (CI once saw an empty status line and 0 items).
    expect(page.locator("#dropzone[data-ready=true]")).to_have_count(1)
    page.locator("#file-input").set_input_files(_files(tmp_path))
    # The import job's own line first: when it fails, its words are the reason.
    expect(page.locator("#upload-status")).to_contain_text("4 created", timeout=30_000)
    expect(page.locator("#item-count")).to_have_text("4")
    files = dict(Item.objects.filter(project=project).values_list("external_id", "original_filename"))
    cameras = dict(Item.objects.filter(project=project).values_list("original_filename", "metadata__camera"))
    assert cameras == {"a.png": "C1", "b.png": "C1", "c.png": "C2", "d.png": "C2"}
    page.get_by_role("button", name="Log out").click()

    for username in ANSWERS:
        _label(page, live_server, project, username, passwords[username], files)

    login(page, live_server, "mle")
    page.goto(f"{live_server.url}/projects/{project.id}/agreement/")
    page.get_by_role("button", name="Run agreement now").click()
    expect(page.get_by_text(re.compile(r"Run #\d+ on schema v1, finished"))).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    first_login(page, live_server, "sme", passwords["sme"], "sme-own-pass-77")
    page.goto(f"{live_server.url}/projects/{project.id}/")
    page.get_by_role("link", name="Review queue").click()
    expect(page.locator("tbody a")).to_have_count(3)  # b, c and d: one answer each way
    by_file = {name: external_id for external_id, name in files.items()}
    for name, key in REVIEWED.items():
        page.locator("tbody a", has_text=by_file[name][:24]).click()
        expect(page.locator("body[data-ready=true]")).to_have_count(1)
        page.keyboard.press(key)
        page.keyboard.press("r")
        expect(page.get_by_text(f"Item {by_file[name]} resolved (now gold).")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    login(page, live_server, "mle")
    page.goto(f"{live_server.url}/projects/{project.id}/")
    page.get_by_role("link", name="Definitions").click()
    merge = page.locator("form", has=page.get_by_role("heading", name="Merge classes"))
    merge.get_by_label("deep scratch").check()
    merge.get_by_label("shallow scratch").check()
    merge.get_by_label("Into").type("scratch")
    merge.get_by_role("button", name="Preview").click()
    # A merge changes what the classes mean: the instructions are rewritten with it (issue 13).
    page.get_by_label("Instructions for v2 (markdown)").click()
    page.keyboard.press("Control+a")
    page.keyboard.type("**scratch**: any line in the glass; **dent**: the frame is bent.")
    page.get_by_label("Why (required)").type("Depth can't be told from a photo")
    page.get_by_role("button", name="Apply: publish schema v2").click()
    expect(page.get_by_text("Published schema v2")).to_be_visible(timeout=20_000)

    page.goto(f"{live_server.url}/projects/{project.id}/")
    page.get_by_role("link", name="Export").click()
    page.get_by_label("Split (name:percent, …)").type("train:50,test:50")
    page.get_by_label("Seed").type("1")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview: 4 rows")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    rows = [json.loads(line) for line in download.value.path().read_text().splitlines()]
    assert {files[r["external_id"]]: r["label"] for r in rows} == AFTER_MERGE
    by_file = {files[r["external_id"]]: r for r in rows}
    # c: the answers tie (dent vs deep scratch, now scratch); the reviewer's dent is the label.
    assert by_file["c.png"]["label_source"] == "resolved" and by_file["c.png"]["consensus"] is None
    assert {by_file[f]["label_source"] for f in ("a.png", "b.png", "d.png")} == {"consensus"}
    assert all(r["schema_version"] == 2 and r["split"] in ("train", "test") for r in rows)
    for split in ("train", "test"):
        shown = page.locator(f"caption:has-text('{split}:')").inner_text()
        assert shown == f"{split}: {sum(r['split'] == split for r in rows)} rows"
    page.get_by_role("button", name="Freeze as snapshot").click()
    expect(page.get_by_text("Snapshot frozen: 4 rows.")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("row", name="v2").get_by_role("link", name="train").click()
    frozen = [json.loads(line) for line in download.value.path().read_text().splitlines()]
    assert frozen == [r for r in rows if r["split"] == "train"]
