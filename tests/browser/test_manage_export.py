"""The Export page in Chromium: a split typed in, the preview per split, the download, a
snapshot frozen and its file downloaded; the files are read back row by row."""

import csv
import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import ItemFactory, ProjectFactory, UserFactory, finished_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_previews_downloads_and_freezes(page, live_server):
    manager = UserFactory(username="mle", is_staff=True)
    project = ProjectFactory(created_by=manager, data_type="record", classes=["same", "different"])
    items = [ItemFactory(project=project, external_id=f"pair-{i:02d}") for i in range(20)]
    finished_run(
        project, [{"item": it, "consensus": "same" if i % 2 else "different"} for i, it in enumerate(items)]
    )
    login(page, live_server, "mle")
    page.goto(f"{live_server.url}/projects/{project.id}/")
    page.get_by_role("link", name="Export").click()
    page.get_by_label("Split (name:percent, …)").type("train:50,test:50")
    page.get_by_label("Seed").type("4")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview: 20 rows")).to_be_visible()
    expect(page.get_by_text("train: 10 rows")).to_be_visible()
    expect(page.locator("#curl-export")).to_contain_text("seed=4")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    rows = [json.loads(line) for line in download.value.path().read_text().splitlines()]
    assert [r["external_id"] for r in rows] == [f"pair-{i:02d}" for i in range(20)]
    assert sum(r["split"] == "train" for r in rows) == 10
    page.get_by_label("Format").select_option("csv")
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Freeze as snapshot").click()
    expect(page.get_by_text("Snapshot frozen: 20 rows.")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("row", name="v1").get_by_role("link", name="test").click()
    frozen = list(csv.DictReader(download.value.path().read_text().splitlines()))
    expected = {r["external_id"]: r["consensus"] for r in rows if r["split"] == "test"}
    assert {r["external_id"]: r["consensus"] for r in frozen} == expected
