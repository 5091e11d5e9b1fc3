import pytest
from django.utils import timezone

from consistency.models import AgreementRun
from labeling.models import Role
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import MembershipFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def test_operations_page_shows_figures_and_raises_alarms(client, project, staff):
    label(project, ANSWERS)
    for alpha, minutes in ((0.8, 10), (0.5, 5)):
        AgreementRun.objects.create(
            project=project,
            schema_version=project.schema_version,
            status="succeeded",
            headline_alpha=alpha,
            report={
                "overall": {"alpha": alpha},
                "labelers": [{"labeler_id": 1, "username": "weak", "loo_rate": 0.3}],
            },
            finished_at=timezone.now() - timezone.timedelta(minutes=minutes),
        )
    response = client_for(staff).patch(
        f"/api/projects/{project.id}/", {"alarms": {"agreement_drop": 0.1}}, format="json"
    )
    assert response.status_code == 200
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/operations/").content.decode()
    assert "Agreement dropped by 0.300" in html and "weak" in html and "Answers per hour" in html
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user
    client.force_login(reviewer)
    assert client.get(f"/projects/{project.id}/operations/").status_code == 403


def test_unknown_alarm_names_are_refused(project, staff):
    response = client_for(staff).patch(
        f"/api/projects/{project.id}/", {"alarms": {"bogus": 0.1}}, format="json"
    )
    assert response.status_code == 400


def test_work_whose_worker_vanished_shows_as_failed_on_the_operations_page(client, project, staff, settings):
    from core.jobs.models import Job
    from core.jobs.reaper import stuck_work_reap

    long_ago = timezone.now() - timezone.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 600)
    job = Job.objects.create(kind="export", project=project, status="running", started_at=long_ago)
    run = AgreementRun.objects.create(
        project=project, schema_version=project.schema_version, status="running", started_at=long_ago
    )
    client.force_login(staff)
    before = client.get(f"/projects/{project.id}/operations/").content.decode()
    assert f"#{job.id}" in before and "status-failed" not in before
    stuck_work_reap()
    html = client.get(f"/projects/{project.id}/operations/").content.decode()
    assert html.count("status-failed") == 2  # the job and the run
    assert f"Agreement run #{run.number}" in html and "worker" in html


def test_operations_show_median_time_per_answer_overall_and_per_labeler(client, project, staff):
    from consistency.selectors.operations import answer_time_medians
    from labeling.models import Annotation

    labelers, _ = label(project, ANSWERS)
    for index, user in enumerate(labelers):  # 1 s, 2 s and 3 s per answer
        Annotation.objects.filter(labeler=user).update(time_spent_ms=(index + 1) * 1000)
    Annotation.objects.filter(labeler=labelers[2]).order_by("pk").first().delete()  # 17 answers
    overall, per_labeler = answer_time_medians(project=project)
    assert overall == 2.0
    assert per_labeler == {labelers[0].id: 1.0, labelers[1].id: 2.0, labelers[2].id: 3.0}
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/operations/").content.decode()
    assert "Median time per answer" in html and "2.0 s" in html and "3.0 s" in html
