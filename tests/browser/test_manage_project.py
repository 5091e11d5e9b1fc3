"""A manager creates a project in Chromium: typed fields, a class added with the button, the
instructions' live preview, then a setting changed on the settings page."""

import pytest
from playwright.sync_api import expect

from labeling.models import Project
from tests.browser.conftest import SCREENSHOTS, login
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_creates_a_project_and_changes_its_settings(page, live_server):
    UserFactory(username="mle", is_staff=True)
    login(page, live_server, "mle")
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name", exact=True).type("Phone boxes")
    page.get_by_label("Data type").select_option("image")
    page.get_by_label("Label kind").select_option("boxes")
    page.get_by_label("Class 1 name").type("scratch")
    page.get_by_label("Class 1 hotkey").type("x")
    page.get_by_label("Class 2 name").type("dent")
    for n in (3, 4):
        expect(page.get_by_label(f"Class {n} name")).to_have_value("")
    page.get_by_role("button", name="Add a class").click()
    expect(page.get_by_label("Class 5 name")).to_be_focused()
    page.keyboard.type("crack")
    page.get_by_label("Instructions (markdown, shown to labelers)").type("Draw **tight** boxes")
    expect(page.locator(".md-preview strong")).to_have_text("tight")
    page.screenshot(path=str(SCREENSHOTS / "project-new.png"), full_page=True)
    page.get_by_role("button", name="Create project").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    project = Project.objects.get(name="Phone boxes")
    assert [c.name for c in project.schema_version.classes.all()] == ["scratch", "dent", "crack"]
    assert project.schema_version.instructions == "Draw **tight** boxes"
    page.get_by_label("Overlap k (answers per item)").fill("5")
    page.get_by_label("Alarm when the skip rate is over").fill("0.25")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    project.refresh_from_db()
    assert project.overlap == 5 and project.alarms["max_skip_rate"] == 0.25
