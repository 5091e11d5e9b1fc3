"""The data browser in Chromium: search, filter, page forward, choose rows, mark them gold."""

import pytest
from playwright.sync_api import expect

from labeling.models import Item
from tests.browser.conftest import login
from tests.factories import ItemFactory, ProjectFactory, UserFactory, finished_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_filters_pages_and_marks_gold(page, live_server):
    manager = UserFactory(username="mle", is_staff=True)
    project = ProjectFactory(created_by=manager)
    classes = ["deep scratch", "shallow scratch", "dent", "none"]
    items = [
        ItemFactory(
            project=project,
            external_id=f"phone-{i:03d}.jpg",
            metadata={"camera": f"C{i % 3}", "_generated_defect": "dent"},
        )
        for i in range(70)
    ]
    finished_run(
        project, [{"item": it, "consensus": classes[i % 4], "agreement": 0.5} for i, it in enumerate(items)]
    )
    login(page, live_server, "mle")
    page.goto(f"{live_server.url}/projects/{project.id}/")
    page.get_by_role("link", name="Browse all 70 items").click()
    expect(page.locator("tbody tr")).to_have_count(50)
    expect(page.get_by_text("_generated_defect")).to_have_count(0)
    page.get_by_role("link", name="Next →").click()
    expect(page.locator("tbody tr")).to_have_count(20)
    expect(page.get_by_role("link", name="phone-069.jpg")).to_be_visible()
    page.get_by_label("External id contains").type("phone-01")
    page.get_by_label("Consensus class").select_option("dent")
    page.keyboard.press("Enter")
    expect(page.locator("tbody tr")).to_have_count(3)  # 010, 014, 018
    page.get_by_label("Choose every item of this page").check()
    page.get_by_label("With the chosen items:").select_option("gold")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Mark gold (consensus): 3 items.")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(3)  # the filters stay
    gold = sorted(Item.objects.filter(is_gold=True).values_list("external_id", flat=True))
    assert gold == ["phone-010.jpg", "phone-014.jpg", "phone-018.jpg"]
    page.get_by_role("link", name="phone-014.jpg").click()
    expect(page.get_by_role("heading", name="Item phone-014.jpg")).to_be_visible()
