"""The consistency loop in Chromium: a manager merges the confused classes from a suggestion;
a reviewer resolves an item from the queue."""

import pytest
from playwright.sync_api import expect

from consistency.models import AgreementRun, Review
from consistency.services.agreement_runs import agreement_run_compute
from labeling.models import Item, LabelSchemaVersion, Role
from tests.browser.conftest import SCREENSHOTS, login
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _project():
    manager = UserFactory(username="mle", is_staff=True)
    project = ProjectFactory(created_by=manager, name="Phone defects")
    label(project, ANSWERS)
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    return project, manager


def test_manager_previews_and_applies_the_suggested_merge(page, live_server):
    project, _ = _project()
    login(page, live_server, "mle")
    page.goto(f"{live_server.url}/projects/{project.id}/definitions/")
    expect(page.get_by_text("Merge deep scratch and shallow scratch into “scratch”")).to_be_visible()
    page.get_by_role("button", name="Preview this merge").first.click()
    expect(
        page.get_by_role("heading", name="What if: merge deep scratch, shallow scratch → scratch")
    ).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "definitions-preview.png"), full_page=True)
    page.get_by_label("Why (required)").fill("Depth cannot be judged from photos")
    page.get_by_role("button", name="Apply: publish schema v2").click()
    expect(page.get_by_text("A merge changes what the classes mean")).to_be_visible()  # 400: say it
    page.get_by_role("button", name="Preview this merge").first.click()
    page.get_by_label("Instructions for v2 (markdown)").fill("**scratch**: any line in the glass.")
    page.get_by_label("Why (required)").fill("Depth cannot be judged from photos")
    page.get_by_role("button", name="Apply: publish schema v2").click()
    expect(page.get_by_text("Published schema v2")).to_be_visible(timeout=20_000)  # runs agreement in-process
    assert LabelSchemaVersion.objects.filter(project=project).count() == 2
    expect(page.get_by_role("cell", name="v1 → v2")).to_be_visible()
    assert "any line in the glass" in LabelSchemaVersion.objects.get(project=project, number=2).instructions


def test_reviewer_resolves_from_the_queue_with_the_keyboard(page, live_server):
    project, _ = _project()
    MembershipFactory(project=project, role=Role.REVIEWER, user=UserFactory(username="sme"))
    login(page, live_server, "sme")
    page.goto(f"{live_server.url}/projects/{project.id}/review/?a=deep+scratch&b=shallow+scratch")
    links = page.locator("tbody a")
    expect(links).to_have_count(3)
    first, second = links.nth(0).inner_text(), links.nth(1).inner_text()
    links.first.click()
    ready = page.locator("body[data-ready=true]")
    expect(ready).to_have_count(1)
    expect(page.get_by_role("heading", name=f"Item {first}")).to_be_visible()
    page.keyboard.press("j")  # next in the filtered queue, without acting
    expect(page.get_by_role("heading", name=f"Item {second}")).to_be_visible()
    expect(ready).to_have_count(1)
    page.keyboard.press("k")
    expect(page.get_by_role("heading", name=f"Item {first}")).to_be_visible()
    expect(ready).to_have_count(1)
    page.keyboard.press("1")  # deep scratch
    expect(page.get_by_role("button", name="1 deep scratch")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("r")  # resolve: the next item of the filtered queue opens
    expect(page.get_by_role("heading", name=f"Item {second}")).to_be_visible()
    expect(page.get_by_text(f"Item {first} resolved (now gold).")).to_be_visible()
    assert "a=deep+scratch" in page.url
    resolved = Item.objects.get(project=project, external_id=first)
    assert resolved.is_gold and resolved.gold_value == "deep scratch"
    assert Review.objects.get(item=resolved).status == "resolved"
