"""The consistency loop in Chromium: a manager merges the confused classes from a suggestion;
a reviewer resolves an item from the queue."""

import pytest
from playwright.sync_api import expect

from consistency.models import AgreementRun
from consistency.services.agreement_runs import agreement_run_compute
from labeling.models import LabelSchemaVersion, Role
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
    expect(page.get_by_text("Published schema v2")).to_be_visible(timeout=20_000)  # runs agreement in-process
    assert LabelSchemaVersion.objects.filter(project=project).count() == 2
    expect(page.get_by_role("cell", name="v1 → v2")).to_be_visible()


def test_reviewer_resolves_from_the_queue_with_the_keyboard(page, live_server):
    project, _ = _project()
    MembershipFactory(project=project, role=Role.REVIEWER, user=UserFactory(username="sme"))
    login(page, live_server, "sme")
    page.goto(f"{live_server.url}/projects/{project.id}/review/?a=deep+scratch&b=shallow+scratch")
    page.locator("tbody a").first.click()
    expect(page.get_by_role("heading", name="Answers")).to_be_visible()
    page.keyboard.press("j")
    expect(page.get_by_role("heading", name="Answers")).to_be_visible()
    page.get_by_label("Final answer").select_option("deep scratch")
    page.get_by_role("button", name="Resolve (becomes gold)").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.get_by_text("Status: resolved")).to_be_visible()
