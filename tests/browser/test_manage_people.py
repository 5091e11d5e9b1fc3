"""People in Chromium: staff create a labeler (password shown once), add a reviewer by e-mail,
change a role with the select, remove someone; the labeler changes the one-time password at
first login before anything else opens."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, login
from tests.factories import ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_adds_changes_and_removes_people(page, live_server):
    manager = UserFactory(username="mle", is_staff=True)
    UserFactory(username="sme", email="sme@example.org")
    project = ProjectFactory(created_by=manager)
    login(page, live_server, "mle")
    page.goto(f"{live_server.url}/projects/{project.id}/")
    page.get_by_role("link", name="People").click()
    page.get_by_label("Username", exact=True).type("lab1")
    page.get_by_label("Role in this project").select_option("labeler")
    page.get_by_role("button", name="Create and add").click()
    password = page.locator("#secret-password").inner_text()
    assert len(password) >= 12
    page.get_by_label("Username or e-mail").type("sme@example.org")
    page.get_by_label("Role", exact=True).select_option("reviewer")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("sme added as reviewer.")).to_be_visible()
    expect(page.locator("#secret-password")).to_have_count(0)  # shown once
    page.screenshot(path=str(SCREENSHOTS / "people.png"), full_page=True)
    page.get_by_label("Role of lab1").select_option("reviewer")
    page.get_by_role("row", name="lab1").get_by_role("button", name="Change").click()
    expect(page.get_by_text("lab1 is now reviewer.")).to_be_visible()
    page.get_by_role("button", name="Remove sme").click()
    expect(page.get_by_text("sme removed; their answers stay.")).to_be_visible()
    assert dict(project.memberships.values_list("user__username", "role")) == {
        "mle": "manager",
        "lab1": "reviewer",
    }
    # the new labeler signs in with the password shown once, and must choose their own first
    page.get_by_role("button", name="Log out").click()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").type("lab1")
    page.get_by_label("Password").type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/password-change/")
    expect(page.locator("#password-required")).to_contain_text("one-time password")
    page.goto(f"{live_server.url}/projects/{project.id}/")  # nothing else opens
    page.wait_for_url(f"{live_server.url}/password-change/")
    api = page.request.get(f"{live_server.url}/api/me/")  # the session's cookies
    assert api.status == 403 and api.json()["error"]["code"] == "password_change_required"
    page.get_by_label("Current password").type(password)
    page.get_by_label("New password", exact=True).type(password)  # the same: refused
    page.get_by_label("New password again").type(password)
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_text("Choose a new password, not the current one.")).to_be_visible()
    page.get_by_label("Current password").type(password)
    page.get_by_label("New password", exact=True).type("lab1-own-pass-77")
    page.get_by_label("New password again").type("lab1-own-pass-77")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    assert page.request.get(f"{live_server.url}/api/me/").status == 200
    page.get_by_role("button", name="Log out").click()
    login(page, live_server, "lab1", "lab1-own-pass-77")
    expect(page.get_by_role("link", name=project.name)).to_be_visible()
