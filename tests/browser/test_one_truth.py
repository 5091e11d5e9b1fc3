"""The issue-13 loop in Chromium on the demo: the manager merges deep and shallow scratch from the
suggestion (typing the new instructions), then resolves the queue's first item (ties first) with
the keyboard, and with no manual run the queue, the Agreement page and the export show v2
classes and the resolution."""

import json

import pytest
from playwright.sync_api import expect

from consistency.models import ItemResult
from consistency.selectors.runs import run_latest
from demo.services import DEMO_PASSWORD, demo_load
from labeling.models import LabelSchemaVersion, Project
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
V1_ONLY = ("deep scratch", "shallow scratch")


def test_merge_then_resolve_a_tie_reaches_queue_agreement_and_export(page, live_server):
    demo_load()
    project = Project.objects.get(name="Phone defects")
    login(page, live_server, "manager", DEMO_PASSWORD)
    page.goto(f"{live_server.url}/projects/{project.id}/definitions/")
    page.get_by_role("button", name="Preview this merge").first.click()
    expect(
        page.get_by_role("heading", name="What if: merge deep scratch, shallow scratch → scratch")
    ).to_be_visible()
    instructions = page.get_by_label("Instructions for v2 (markdown)")
    instructions.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("**scratch**: any line in the glass, deep or not.")
    page.get_by_label("Why (required)").click()
    page.keyboard.type("Depth cannot be judged from photos")
    page.get_by_role("button", name="Apply: publish schema v2").click()
    expect(page.get_by_text("Published schema v2")).to_be_visible(timeout=30_000)
    v2 = LabelSchemaVersion.objects.get(project=project, number=2)
    assert "any line in the glass" in v2.instructions

    run = run_latest(project=project)
    assert run.schema_version_id == v2.id  # the change's own run, started without anyone asking
    # The queue's first item: ties first, then the most disagreeing.
    page.goto(f"{live_server.url}/projects/{project.id}/review/")
    first = page.locator("tbody a").first
    external_id = first.inner_text()
    first.click()
    expect(page.locator("body[data-ready=true]")).to_have_count(1)
    tie = ItemResult.objects.select_related("item").get(run=run, item__external_id=external_id)
    page.keyboard.press("2")  # dent (v2: scratch, dent, none)
    expect(page.get_by_role("button", name="2 dent")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("r")
    expect(page.get_by_text(f"Item {tie.item.external_id} resolved")).to_be_visible()

    page.goto(f"{live_server.url}/projects/{project.id}/review/?status=resolved")
    row = page.get_by_role("row", name=tie.item.external_id)
    expect(row).to_contain_text("dent")
    expect(row).to_contain_text("resolved")
    for name in V1_ONLY:
        expect(page.locator("tbody")).not_to_contain_text(name)

    page.goto(f"{live_server.url}/projects/{project.id}/agreement/")
    expect(page.locator("#freshness")).to_contain_text("0 answers and 1 decision since this run")
    expect(page.get_by_text(f"Run #{run.number} on schema v2")).to_be_visible()

    body = page.evaluate(
        "url => fetch(url, {credentials: 'same-origin'}).then(r => r.text())",
        f"{live_server.url}/api/projects/{project.id}/export/?exclude=ties",
    )
    rows = {r["external_id"]: r for r in map(json.loads, body.splitlines())}
    resolved = rows[tie.item.external_id]  # kept by exclude=ties: a reviewer settled it
    assert (resolved["label"], resolved["label_source"], resolved["is_tie"]) == ("dent", "resolved", False)
    assert resolved["resolved_by"] == "manager" and resolved["schema_version"] == 2
    assert not {r["label"] for r in rows.values()} & set(V1_ONLY)
    assert not {r["consensus"] for r in rows.values()} & set(V1_ONLY)
