"""Splitting a class from the Definitions page in Chromium: pick the class and type the new
names, read the what-if preview, keep the instructions on purpose, apply; the split class's
old answers no longer count and their items go back to the queue."""

import pytest
from django.db.models import F
from playwright.sync_api import expect

from consistency.models import AgreementRun, SchemaChange
from consistency.selectors.annotations import annotations_frame
from consistency.services.agreement_runs import agreement_run_compute
from labeling.models import Item, LabelSchemaVersion, Role
from labeling.services.assignments import assignment_reserve_next
from tests.browser.conftest import login
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_splits_a_class_and_its_items_go_back_to_the_queue(page, live_server):
    manager = UserFactory(username="mle", is_staff=True)
    project = ProjectFactory(created_by=manager, name="Phone defects")
    _, items = label(project, ANSWERS)  # "dent": 3 answers on item 2, 2 on item 5
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    instructions = project.schema_version.instructions
    login(page, live_server, "mle")
    page.goto(f"{live_server.url}/projects/{project.id}/definitions/")
    split_form = page.locator("form", has=page.get_by_label("Class to split"))

    page.get_by_label("Class to split").focus()
    page.keyboard.type("dent")  # a closed <select> picks the option typed
    expect(page.get_by_label("Class to split")).to_have_value("dent")
    page.get_by_label("Into (new class)").click()
    page.keyboard.type("dent")  # the old name may live on as one of the new classes
    page.get_by_label("and (new class)").click()
    page.keyboard.type("dent")
    page.get_by_label("and (new class)").press("Enter")
    # Same name twice: refused on the page, nothing published.
    expect(page.get_by_text("The new classes must differ.")).to_be_visible()
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1

    page.get_by_label("Class to split").focus()
    page.keyboard.type("dent")
    page.get_by_label("Into (new class)").click()
    page.keyboard.type("small dent")
    page.get_by_label("and (new class)").click()
    page.keyboard.type("crushed corner")
    split_form.get_by_role("button", name="Preview").click()
    heading = page.get_by_role("heading", name="What if: split dent → small dent, crushed corner")
    expect(heading).to_be_visible()
    effect = page.locator("#split-effect")
    expect(effect).to_contain_text("the 5 answers of “dent” no longer count: 2 items go back to the queue")
    expect(page.locator(".preview dt:has-text('Items re-queued') + dd")).to_have_text("2")

    page.get_by_label("Why (required)").click()
    page.keyboard.type("Dents on corners are a different defect")
    page.get_by_role("button", name="Apply: publish schema v2").click()
    # A split changes what the classes mean: new instructions or an explicit keep.
    expect(page.get_by_text("A split changes what the classes mean")).to_be_visible()
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1
    page.get_by_label("Class to split").focus()
    page.keyboard.type("dent")
    page.get_by_label("Into (new class)").click()
    page.keyboard.type("small dent")
    page.get_by_label("and (new class)").click()
    page.keyboard.type("crushed corner")
    split_form.get_by_role("button", name="Preview").click()
    page.get_by_label("Keep the instructions as they are").check()
    page.get_by_label("Why (required)").click()
    page.keyboard.type("Dents on corners are a different defect")
    page.get_by_role("button", name="Apply: publish schema v2").click()
    expect(page.get_by_text("Published schema v2")).to_be_visible(timeout=30_000)

    v2 = LabelSchemaVersion.objects.get(project=project, number=2)
    assert list(v2.classes.values_list("name", flat=True)) == [
        "deep scratch",
        "shallow scratch",
        "small dent",
        "crushed corner",
        "none",
    ]
    assert v2.mapping == {"dent": None} and v2.instructions == instructions
    assert SchemaChange.objects.get(project=project).op == "split"
    expect(page.get_by_role("cell", name="v1 → v2")).to_be_visible()
    # Old "dent" answers are unmapped under v2: unanswered, to be given again.
    frame = annotations_frame(project=project, schema_version=v2)
    unmapped = frame[frame["value"].isna() & ~frame["skipped"]]
    assert len(unmapped) == 5 and unmapped["needs_relabel"].all()
    assert set(unmapped["item"]) == {items[2].id, items[5].id}
    assert not frame["value"].isin(["dent"]).any()
    # Their items want new answers: a new labeler is handed one of them.
    wanting = Item.objects.filter(project=project, slots_taken__lt=F("target"))
    assert set(wanting.values_list("id", flat=True)) == {items[2].id, items[5].id}
    newcomer = MembershipFactory(project=project, role=Role.LABELER).user
    assert assignment_reserve_next(project=project, labeler=newcomer).item_id in {items[2].id, items[5].id}
