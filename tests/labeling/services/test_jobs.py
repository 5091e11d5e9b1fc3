import pytest

from core.errors import ServiceUnavailable
from core.jobs.models import Job, JobStatus
from core.jobs.services import job_create, job_execute, job_send
from labeling.models import JobKind
from labeling.services.stats import project_stats_compute
from tests.factories import ItemFactory
from tests.helpers import client_for
from tests.worker import celery_worker_process, wait_for  # noqa: F401 — fixture


@pytest.mark.worker
def test_stats_job_runs_on_a_real_worker_through_redis(project, staff, celery_worker_process):  # noqa: F811
    ItemFactory.create_batch(3, project=project, metadata={"factory": "Shenzhen"})
    response = client_for(staff).post(f"/api/projects/{project.id}/stats/refresh/")
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert response["Location"].endswith(f"/api/jobs/{job_id}/")

    job = wait_for(lambda: Job.objects.filter(pk=job_id, status=JobStatus.SUCCEEDED).first())
    assert job.attempts == 1
    assert job.result["item_count"] == 3
    assert job.result["slices"] == {"factory": {"Shenzhen": 3}}
    body = client_for(staff).get(f"/api/jobs/{job_id}/").json()
    assert body["status"] == "succeeded" and body["progress"] == 100


@pytest.mark.django_db
def test_finished_job_is_not_run_twice(project, staff):
    job = job_create(kind=JobKind.PROJECT_STATS, project=project, created_by=staff)
    calls = []

    def runner(job, progress):
        calls.append(job.id)
        return {"ok": True}

    job_execute(job_id=job.id, runner=runner)
    job_execute(job_id=job.id, runner=runner)  # a redelivered message
    job.refresh_from_db()
    assert calls == [job.id]
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 1


@pytest.mark.django_db
def test_failing_runner_ends_in_failed_job_with_the_error(project, staff):
    job = job_create(kind=JobKind.PROJECT_STATS, project=project, created_by=staff)

    def runner(job, progress):
        progress(30)
        raise ValueError("the file has no header row")

    job_execute(job_id=job.id, runner=runner)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "no header row" in job.error


@pytest.mark.django_db
def test_broker_down_gives_503_and_a_failed_job_never_a_fake_accept(project, staff):
    from celery import Celery

    from core.jobs.tasks import job_run

    dead = Celery("dead", broker="redis://127.0.0.1:1/0", set_as_current=False)
    dead.conf.broker_connection_timeout = 0.5

    @dead.task(name=job_run.name)
    def dead_task(job_id):
        return None

    job = job_create(kind=JobKind.PROJECT_STATS, project=project, created_by=staff)
    with pytest.raises(ServiceUnavailable):
        job_send(job=job, task=dead_task)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "unreachable" in job.error


@pytest.mark.django_db
def test_stats_compute_counts_per_labeler_and_slice(project, staff):
    ItemFactory(project=project, metadata={"factory": "A", "camera": "x"})
    ItemFactory(project=project, metadata={"factory": "B"})
    job = job_create(kind=JobKind.PROJECT_STATS, project=project, created_by=staff)
    result = project_stats_compute(job, lambda pct: None)
    assert result["item_count"] == 2
    assert result["slices"] == {"camera": {"x": 1}, "factory": {"A": 1, "B": 1}}


@pytest.mark.django_db
def test_jobs_are_invisible_to_other_users(project, staff, user):
    job = job_create(kind=JobKind.PROJECT_STATS, project=project, created_by=staff)
    assert client_for(user).get(f"/api/jobs/{job.id}/").status_code == 404
    assert client_for(staff).get(f"/api/jobs/{job.id}/").status_code == 200
