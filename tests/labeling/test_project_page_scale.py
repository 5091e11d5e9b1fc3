"""The project page never aggregates every answer in the request (at 10M answers that took longer
than gunicorn's 30 s timeout): progress comes from indexes, answer counts from the latest
statistics job, with their time."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.jobs.models import Job
from core.jobs.services import job_execute
from labeling.services.stats import project_stats_compute, project_stats_refresh_request
from tests.bulk import items_insert

pytestmark = pytest.mark.django_db


def test_the_page_counts_answers_only_through_the_statistics_job(client, staff, project):
    items_insert(project=project, count=11)
    client.force_login(staff)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/projects/{project.id}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<dd>11</dd>" in body and "Answer counts as of" not in body
    per_item = '"labeling_annotation"."item_id" AS "item"'  # the live per-item aggregation
    assert not any(per_item in q["sql"] for q in queries)
    assert not any('FROM "labeling_annotation"' in q["sql"] for q in queries)

    job = project_stats_refresh_request(project=project, requested_by=staff)
    job_execute(job_id=job.id, runner=project_stats_compute)
    assert Job.objects.get(pk=job.id).status == "succeeded"
    page = client.get(f"/projects/{project.id}/").content.decode()
    assert "Answer counts as of" in page and "<dd>11</dd>" in page
