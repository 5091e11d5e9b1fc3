import pytest
from playwright.sync_api import expect

from labeling.models import Role
from tests.browser.conftest import SCREENSHOTS, login
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_logs_in_sees_projects_and_opens_one(page, live_server):
    manager = UserFactory(username="mle", is_staff=True)
    project = ProjectFactory(created_by=manager, name="Phone defects")
    ItemFactory.create_batch(3, project=project, metadata={"factory": "Shenzhen"})
    ProjectFactory(name="Not mine")

    login(page, live_server, "mle")
    table = page.get_by_role("table", name="Your projects")
    expect(table.get_by_role("link", name="Phone defects")).to_be_visible()
    assert page.get_by_text("Not mine").count() == 0

    table.get_by_role("link", name="Phone defects").click()
    expect(page.get_by_role("heading", name="Phone defects")).to_be_visible()
    assert page.get_by_text("deep scratch").first.is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "project.png"), full_page=True)
    page.get_by_role("link", name="Browse all 3 items").click()
    expect(page.get_by_text("factory: Shenzhen")).to_have_count(3)


def test_labeler_does_not_see_members_or_jobs(page, live_server):
    project = ProjectFactory(name="Same person?", data_type="record", classes=["1", "0"])
    labeler = MembershipFactory(project=project, role=Role.LABELER, user=UserFactory(username="lab1")).user
    login(page, live_server, labeler.username)
    page.get_by_role("link", name="Same person?").click()
    expect(page.get_by_role("heading", name="Same person?")).to_be_visible()
    assert page.get_by_role("heading", name="Members").count() == 0
    assert page.get_by_role("heading", name="Recent jobs").count() == 0


def test_wrong_password_shows_an_error_and_stays_logged_out(page, live_server):
    UserFactory(username="ana")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("wrong")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_be_visible()
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url


def test_manager_uploads_a_csv_on_the_data_page(page, live_server, tmp_path):
    manager = UserFactory(username="uploader", is_staff=True)
    project = ProjectFactory(created_by=manager, name="Pairs", data_type="record", classes=["1", "0"])
    csv_file = tmp_path / "pairs.csv"
    csv_file.write_text("external_id,left.name,right.name,region\np1,Bob,Robert,EU\np2,Ann,Anna,NA\n")
    login(page, live_server, "uploader")
    page.goto(f"{live_server.url}/projects/{project.id}/data/")
    page.get_by_label("Metadata columns (slices, not shown to labelers)").fill("region")
    expect(page.locator("#dropzone[data-ready=true]")).to_have_count(1)
    page.locator("#file-input").set_input_files(str(csv_file))
    expect(page.get_by_text("Imported: 2 created, 0 already there (of 2 rows).")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="region")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "data.png"), full_page=True)
