"""Every page at a desktop width and at a 390 px phone width: axe-core's computed colour-contrast
check (the script ships in the axe-playwright-python package: nothing from a CDN) finds no text
under 4.5:1, no page scrolls sideways (wide tables scroll inside their card), the top bar wraps
with "Log out" on its dark background, and the workspace header's parts do not overlap."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from demo.services import DEMO_PASSWORD, demo_load
from labeling.api.labeling import _next_payload
from labeling.models import Item, Project
from labeling.services.submissions import annotation_submit
from tests.browser.conftest import login
from tests.helpers import agreement_run_now

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONTRAST = {"runOnly": {"type": "rule", "values": ["color-contrast"]}, "resultTypes": ["violations"]}
PROJECT_PAGES = [
    "",
    "label/",
    "agreement/",
    "review/",
    "definitions/",
    "labelers/",
    "model/",
    "data/",
    "operations/",
]
# The manager pages look alike across projects: checked on the first project only (time).
MANAGE_PAGES = ["items/", "export/?preview=1&split=train:80,dev:10,test:10", "settings/", "people/"]


def _contrast_problems(axe, page) -> list[str]:
    result = axe.run(page, options=CONTRAST).response
    return [
        f"{node['target']}: {node['any'][0]['message'][:140]}"
        for v in result["violations"]
        for node in v["nodes"]
    ]


def _sideways(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


def _demo_with_prelabels():
    """The demo's four projects, plus answers given with pre-labels on (the Labelers page's section)."""
    from django.contrib.auth import get_user_model

    demo_load()
    pairs = Project.objects.get(name="Same person?")
    pairs.prelabels, pairs.prelabel_holdout = True, 0.3
    pairs.save()
    labeler = get_user_model().objects.get(username="labeler1")
    payload = _next_payload(pairs, labeler)
    while payload:
        value = (payload["suggestion"] or {}).get("value") or "1"
        annotation_submit(item_id=payload["id"], labeler=labeler, value=value)
        payload = _next_payload(pairs, labeler, known_free=True)
    agreement_run_now(pairs)
    return Project.objects.order_by("id")


def test_every_page_at_a_desktop_and_a_phone_width(page, live_server):
    """One demo for every check (loading it is the slow part)."""
    projects = _demo_with_prelabels()
    _every_page_reads_at_4_5_to_1(page, live_server, projects)
    _the_explanation_tooltip_reads_at_4_5_to_1(page, live_server, projects)
    _wide_tables_scroll_inside_their_card(page, live_server, projects)
    page.context.clear_cookies()
    _the_top_bar_wraps_and_the_workspace_header_does_not_overlap(page, live_server, projects)


def _every_page_reads_at_4_5_to_1(page, live_server, projects):
    axe = Axe()
    # /api/docs/ is Swagger UI's page with its own styles (drf-spectacular-sidecar): not checked.
    urls = ["/", "/account/", "/help/agreement/", "/projects/new/"]
    for project in projects:
        item = Item.objects.filter(project=project).order_by("id").first()
        urls += [f"/projects/{project.id}/{suffix}" for suffix in PROJECT_PAGES]
        urls.append(f"/projects/{project.id}/review/{item.id}/")
    urls += [f"/projects/{projects[0].id}/{suffix}" for suffix in MANAGE_PAGES]
    problems = []
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 800})
        page.context.clear_cookies()
        for anonymous in ("/login/", "/password-reset/"):
            page.goto(live_server.url + anonymous)
            problems += [f"{width} {anonymous} {p}" for p in _contrast_problems(axe, page)]
        login(page, live_server, "manager", DEMO_PASSWORD)
        for url in urls:
            page.goto(live_server.url + url)
            if url.endswith("/label/"):  # the item arrives after the page
                expect(page.locator("#item-name")).not_to_have_text("…")
            problems += [f"{width} {url} {p}" for p in _contrast_problems(axe, page)]
            if _sideways(page) > 0:
                problems.append(f"{width} {url}: the page scrolls sideways by {_sideways(page)} px")
    assert not problems, "\n".join(problems)


def _the_explanation_tooltip_reads_at_4_5_to_1(page, live_server, projects):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/projects/{projects[0].id}/agreement/")
    page.locator(".headline .term a").first.hover()
    expect(page.locator(".headline .term .tip").first).to_be_visible()
    assert not _contrast_problems(Axe(), page)


def _wide_tables_scroll_inside_their_card(page, live_server, projects):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/projects/{projects[0].id}/labelers/")
    table = page.locator("section[aria-labelledby=labelers-h] table")
    widths = table.evaluate(
        "t => [t.scrollWidth, t.clientWidth, t.closest('.card').getBoundingClientRect().right]"
    )
    assert widths[0] > widths[1]  # wider than its room: it scrolls…
    assert widths[2] <= 390  # …inside a card that stays on screen
    assert _sideways(page) <= 0


def _the_top_bar_wraps_and_the_workspace_header_does_not_overlap(page, live_server, projects):
    page.set_viewport_size({"width": 390, "height": 800})
    login(page, live_server, "labeler2", DEMO_PASSWORD)
    for project in projects:
        page.goto(f"{live_server.url}/projects/{project.id}/label/")
        expect(page.locator("#item-name")).not_to_have_text("…")
        logout = page.get_by_role("button", name="Log out")
        bar, button = page.locator(".topbar").bounding_box(), logout.bounding_box()
        assert button["x"] >= 0 and button["x"] + button["width"] <= 390  # on screen
        assert (
            bar["y"] <= button["y"] and button["y"] + button["height"] <= bar["y"] + bar["height"]
        )  # on the bar
        boxes = [
            page.locator(selector).bounding_box()
            for selector in (".ws-ident", ".ws-head-actions", ".ws-progress")
        ]
        for i, a in enumerate(boxes):
            assert a["x"] >= 0 and a["x"] + a["width"] <= 390, a
            for b in boxes[i + 1 :]:
                apart = (
                    a["x"] + a["width"] <= b["x"]
                    or b["x"] + b["width"] <= a["x"]
                    or a["y"] + a["height"] <= b["y"]
                    or b["y"] + b["height"] <= a["y"]
                )
                assert apart, (a, b)
        assert _sideways(page) <= 0
