"""The workspace with media in an S3 bucket (moto's server): the image comes from a presigned
URL, and when it can't be loaded the labeler gets "Try again", which asks the app for a fresh
URL and shows the image."""

import pytest
from playwright.sync_api import expect

from labeling.models import Annotation
from tests.browser.workspace_helpers import (
    add_labeler,
    failing_on_javascript_errors,
    media_item,
    open_workspace,
    phone_png,
)
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(page):
    """Fails the test on any JavaScript or CSP error."""
    yield from failing_on_javascript_errors(page)


def test_an_image_from_the_bucket_is_retried_after_a_failed_load(page, live_server, bucket):
    project = ProjectFactory(name="Phones in a bucket", classes=["scratch", "dent", "none"])
    png, _ = phone_png()
    media_item(project, "phone-1", png, ".png", precompute=False)
    labeler = add_labeler(project, "bucketeer")
    endpoint = bucket.env["AWS_S3_ENDPOINT_URL"]
    media_calls, from_bucket = [], []
    page.on(
        "request",
        lambda request: from_bucket.append(request.url) if request.url.startswith(endpoint) else None,
    )

    def lost_once(route):
        # Playwright sees the app's URL, not the redirect's target: losing the first answer here
        # is what an unreachable bucket looks like to the page (the image fails to load).
        media_calls.append(route.request.url)
        if len(media_calls) == 1:
            route.abort()
        else:
            route.continue_()

    page.route("**/items/*/media/media/", lost_once)
    open_workspace(page, live_server, project, "bucketeer")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The image could not be loaded")
    alert.get_by_role("button", name="Try again").click()
    expect(page.locator("#item-image")).not_to_have_class("preview")
    expect(alert).to_be_hidden()
    assert len(media_calls) == 2  # the retry asked the app again, for a fresh presigned URL
    assert len(from_bucket) == 1 and "X-Amz-Signature=" in from_bucket[0]  # the bytes came from the bucket

    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="All done")).to_be_visible()
    assert Annotation.objects.filter(labeler=labeler).count() == 1
