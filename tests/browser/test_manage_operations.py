"""Operations in Chromium: alarm thresholds typed and saved on the page; the projects list shows
the project's progress bar and its latest alpha."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.factories import ItemFactory, ProjectFactory, UserFactory, finished_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_sets_alarms_and_reads_the_projects_list(page, live_server):
    manager = UserFactory(username="mle", is_staff=True)
    project = ProjectFactory(created_by=manager, name="Phone defects")
    finished_run(project, [{"item": ItemFactory(project=project)} for _ in range(3)])
    login(page, live_server, "mle")
    row = page.get_by_role("row", name="Phone defects")
    expect(row.get_by_role("progressbar")).to_be_visible()
    expect(row.get_by_role("link", name="0.500")).to_be_visible()
    page.goto(f"{live_server.url}/projects/{project.id}/operations/")
    field = page.get_by_label("Skip rate over")
    field.fill("")
    field.type("0.35")
    page.get_by_role("button", name="Save alarms").click()
    expect(page.get_by_text("Alarm thresholds saved.")).to_be_visible()
    expect(page.get_by_label("Skip rate over")).to_have_value("0.35")
    project.refresh_from_db()
    assert project.alarms["max_skip_rate"] == 0.35
