"""A big project's page shows background-computed progress instead of aggregating every answer
in the request (at 10M answers that took longer than gunicorn's 30 s timeout)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.bulk import items_insert

pytestmark = pytest.mark.django_db


def test_a_big_projects_page_uses_the_latest_statistics_job(client, staff, project, settings):
    settings.CONCORD_LIVE_STATS_MAX_ITEMS = 10
    items_insert(project=project, count=11)
    client.force_login(staff)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/projects/{project.id}/")
    assert page.status_code == 200
    assert "computed in the background" in page.content.decode()
    per_item = '"labeling_annotation"."item_id" AS "item"'  # the live per-item aggregation
    assert not any(per_item in q["sql"] for q in queries)

    from labeling.models import Job
    from labeling.services.stats import project_stats_refresh_request

    job = project_stats_refresh_request(project=project, requested_by=staff)
    from labeling.services.jobs import job_execute
    from labeling.services.stats import project_stats_compute

    job_execute(job_id=job.id, runner=project_stats_compute)
    assert Job.objects.get(pk=job.id).status == "succeeded"
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "As of" in page and "<dd>11</dd>" in page


def test_a_small_projects_page_counts_live(client, staff, project):
    items_insert(project=project, count=3)
    client.force_login(staff)
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "As of" not in page and "<dd>3</dd>" in page
