"""Numbers explained where they are shown, in Chromium: explanations on hover and on keyboard
focus with their docs section, the history chart's reference lines and readable text, signed
gains, the Model page's negative gap, and the Data page that updates itself after an import."""

import io
import zipfile

import pytest
from PIL import Image
from playwright.sync_api import expect

from consistency.models import Prediction
from consistency.services.schema_changes import schema_change_apply
from demo.images import phone_surface_with_box
from labeling.models import Item
from tests.browser.conftest import login
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.consistency.test_numbers_explained import LOWER_IF_MERGED, _rows_to_answers
from tests.factories import ProjectFactory, UserFactory
from tests.helpers import agreement_run_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _manager_project(**kwargs):
    manager = UserFactory(username="mle", is_staff=True)
    return ProjectFactory(created_by=manager, **kwargs), manager


def test_figures_explain_themselves_on_hover_and_focus_and_link_to_the_docs(page, live_server):
    project, _ = _manager_project()
    label(project, ANSWERS)
    agreement_run_now(project)
    agreement_run_now(project)  # two points on the history chart
    login(page, live_server, "mle")
    page.goto(f"{live_server.url}/projects/{project.id}/agreement/")
    fleiss = page.locator(".figures .term").filter(has_text="Fleiss' kappa")
    tip = fleiss.locator(".tip")
    expect(tip).to_be_hidden()
    fleiss.locator("a").hover()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("Chance-corrected agreement of all labelers")
    page.keyboard.press("Escape")  # dismissed without moving away
    expect(tip).to_be_hidden()
    page.mouse.move(0, 0)
    # With the keyboard: Tab to the alpha term, its explanation shows and is the link's description.
    alpha = page.locator(".headline .term a").first
    alpha.focus()
    expect(page.locator(".headline .term .tip").first).to_be_visible()
    expect(alpha).to_have_accessible_description(
        "How much more labelers agree than chance would give; any number of labelers, missing answers fine. "
        "−1 to 1 · ≥ 0.800 reliable · 0.667–0.800 tentative · < 0.667 unreliable"
    )
    expect(page.locator(".headline p.scale")).to_contain_text("≥ 0.800 reliable")  # the verdict's scale
    # The history chart: Krippendorff's lines, axis titles, text at 12 px or more on screen.
    chart = page.locator("svg.chart")
    expect(chart.locator("line.reference")).to_have_count(2)
    expect(chart.locator(".reference-label")).to_have_text(["0.800 reliable", "0.667 tentative"])
    expect(chart.locator(".axis-title")).to_have_count(2)
    smallest = chart.evaluate(
        """svg => Math.min(...[...svg.querySelectorAll('text')].map(t => t.getBoundingClientRect().height))"""
    )
    assert smallest >= 12
    alpha.click()  # the link opens the docs at the section
    expect(page).to_have_url(f"{live_server.url}/help/agreement/#alpha")
    expect(page.get_by_role("heading", name="Krippendorff's alpha")).to_be_in_viewport()


def test_gains_are_signed_and_merges_that_lower_alpha_are_not_offered(page, live_server):
    project, manager = _manager_project(classes=["a", "b", "c"])
    label(project, _rows_to_answers(LOWER_IF_MERGED))
    agreement_run_now(project)
    # Someone merged a and b anyway: agreement fell.
    schema_change_apply(
        project=project,
        op="merge",
        params={"classes": ["a", "b"], "into": "ab", "keep_instructions": True},
        note="tried it",
        actor=manager,
        dry_run=False,
    )
    login(page, live_server, "mle")
    page.goto(f"{live_server.url}/projects/{project.id}/definitions/")
    gain = page.get_by_role("row", name="v1 → v2").locator("td.num").nth(2)
    expect(gain).to_have_text("−0.312")
    expect(page.locator(".suggestion")).not_to_contain_text("Merge a and b")


def test_a_merge_preview_is_shown_where_its_button_is(page, live_server):
    project, _ = _manager_project()
    label(project, ANSWERS)
    agreement_run_now(project)
    login(page, live_server, "mle")
    page.goto(f"{live_server.url}/projects/{project.id}/definitions/")
    page.get_by_role("button", name="Preview this merge").first.click()
    heading = page.get_by_role("heading", name="What if: merge deep scratch, shallow scratch → scratch")
    expect(heading).to_be_in_viewport()
    expect(page.locator("#preview-change")).to_have_text(page.locator("#preview-change").inner_text())
    assert page.locator("#preview-change").inner_text().startswith("+")


def test_the_model_page_shows_a_negative_gap_and_links_the_queue(page, live_server):
    project, _ = _manager_project()
    _, items = label(project, ANSWERS, metadata={i: {"factory": "A" if i < 3 else "B"} for i in range(6)})
    run = agreement_run_now(project)
    consensus = dict(run.item_results.values_list("item_id", "consensus"))
    values = {item.id: consensus[item.id] for item in items} | {items[3].id: "dent"}  # wrong on one of B
    Prediction.objects.bulk_create(
        Prediction(project=project, item_id=item_id, model_version="m1", value=value)
        for item_id, value in values.items()
    )
    login(page, live_server, "mle")
    page.goto(f"{live_server.url}/projects/{project.id}/model/?version=m1&field=factory")
    row_a = page.get_by_role("row").filter(has=page.get_by_role("cell", name="A", exact=True))
    expect(row_a).to_contain_text("model ahead of people")
    expect(row_a).to_contain_text("−")
    page.get_by_role("link", name="1 item where the model disagrees with the consensus").click()
    expect(page.get_by_role("link", name=items[3].external_id)).to_be_visible()


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _zip_of_images() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for seed in (1, 2):
            archive.writestr(f"phone-{seed}.png", _png(phone_surface_with_box("dent", seed=seed)[0]))
        archive.writestr("dark-1.png", _png(Image.new("RGB", (320, 240), (3, 3, 3))))
    return buffer.getvalue()


def test_the_data_page_updates_after_an_import_and_links_outliers(page, live_server, tmp_path):
    project, _ = _manager_project()
    login(page, live_server, "mle")
    page.goto(f"{live_server.url}/projects/{project.id}/data/")
    expect(page.locator("#item-count")).to_have_text("0")
    archive = tmp_path / "phones.zip"
    archive.write_bytes(_zip_of_images())
    expect(page.locator("#dropzone[data-ready=true]")).to_have_count(1)
    page.locator("#file-input").set_input_files(str(archive))
    # The job ends; the counts, histograms and imports list change without a reload.
    expect(page.locator("#item-count")).to_have_text("3")
    histogram = page.locator("figure.histogram").filter(has_text="Mean brightness (0–255)")
    expect(histogram.locator(".y-title")).to_have_text("items per bin")
    expect(histogram.locator(".x-title")).to_have_text("Mean brightness (0–255)")
    bars = histogram.locator(".bar em")
    expect(bars).to_have_count(12)  # n on every bar, 0 included
    assert sum(int(n) for n in bars.all_inner_texts()) == 3
    assert min(bars.evaluate_all("ems => ems.map(e => parseFloat(getComputedStyle(e).fontSize))")) >= 12
    expect(page.locator("[data-job]").first).to_contain_text("succeeded")
    dark = Item.objects.get(project=project, quality__brightness__lt=25)
    outlier = page.locator("#outliers tbody tr").filter(has_text="almost black")
    outlier.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/projects/{project.id}/review/{dark.id}/")
    expect(page.get_by_role("heading", name=f"Item {dark.external_id}")).to_be_visible()

    # A bad file: its error said once.
    page.go_back()
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"this is not a zip")
    page.locator("#file-input").set_input_files(str(bad))
    status = page.locator("#upload-status .error")
    expect(status.first).to_be_visible()
    page.wait_for_timeout(500)  # nothing else arrives
    texts = status.all_inner_texts() + page.locator("[data-job] .error").all_inner_texts()
    assert len(texts) == 1, texts
