"""Operations on a large project: the answer figures come from the statistics job (with its
time), equal to what the page computes live, at a query count that doesn't grow with answers."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consistency.selectors import operations
from core.jobs.models import Job, JobStatus
from labeling.models import JobKind
from labeling.services.stats import project_stats_compute
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import finished_run

pytestmark = pytest.mark.django_db

FIGURES = (
    "answers",
    "skip_rate",
    "median_seconds",
    "per_hour",
    "per_labeler",
    "consensus_share",
    "alarms",
    "per_item",
)


def _stats_job(project, staff) -> Job:
    job = Job.objects.create(kind=JobKind.PROJECT_STATS, project=project, created_by=staff, status="running")
    job.result = project_stats_compute(job, lambda percent: None)
    job.status, job.finished_at = JobStatus.SUCCEEDED, timezone.now()
    job.save()
    return job


def test_large_project_reads_the_statistics_job_figures(client, project, staff, monkeypatch):
    label(project, ANSWERS)
    finished_run(project, [{"item": item, "consensus": "a"} for item in project.items.all()[:2]])
    live = operations.operations_summary(project=project)
    assert live["live"] and live["answers"] > 2
    monkeypatch.setattr(operations, "LIVE_ANSWERS", 2)
    client.force_login(staff)
    waiting = client.get(f"/projects/{project.id}/operations/").content.decode()
    assert "no statistics job has counted them yet" in waiting
    job = _stats_job(project, staff)
    kept = operations.operations_summary(project=project)
    assert not kept["live"] and kept["figures_job"].id == job.id
    assert {k: kept[k] for k in FIGURES} == {k: live[k] for k in FIGURES}
    html = client.get(f"/projects/{project.id}/operations/").content.decode()
    assert f"statistics job #{job.id}" in html and "Refresh figures" in html
    with CaptureQueriesContext(connection) as few:
        client.get(f"/projects/{project.id}/operations/")
    label(project, ANSWERS)  # more answers: the page reads no more rows for them
    with CaptureQueriesContext(connection) as more:
        client.get(f"/projects/{project.id}/operations/")
    assert len(few) == len(more)


def test_refresh_figures_starts_the_statistics_job_and_comes_back(client, project, staff):
    client.force_login(staff)
    response = client.post(f"/projects/{project.id}/stats/refresh/", {"back": "operations"})
    assert response.status_code == 302 and response["Location"] == f"/projects/{project.id}/operations/"
    assert Job.objects.filter(project=project, kind=JobKind.PROJECT_STATS).count() == 1
    plain = client.post(f"/projects/{project.id}/stats/refresh/")
    assert plain["Location"] == f"/projects/{project.id}/"
