"""Two worker processes on one queue share the jobs, and each job runs exactly once."""

import re

import pytest

from consistency.models import AgreementRun, ItemResult
from labeling.models import Role
from tests.bulk import answers_insert, items_insert
from tests.factories import MembershipFactory, ProjectFactory
from tests.helpers import client_for
from tests.worker import two_celery_workers, wait_for  # noqa: F401 — fixture

CLASSES = ["deep scratch", "shallow scratch", "dent", "none"]


@pytest.mark.worker
def test_agreement_runs_of_many_projects_spread_over_two_workers_and_run_once(
    staff,
    two_celery_workers,  # noqa: F811 — the fixture
):
    client = client_for(staff)
    projects = []
    for _ in range(8):
        project = ProjectFactory(created_by=staff, classes=CLASSES)
        labelers = [MembershipFactory(project=project, role=Role.LABELER).user.id for _ in range(3)]
        items_insert(project=project, count=3_000)
        answers_insert(project=project, labeler_ids=labelers, classes=CLASSES)
        projects.append(project)
    # All eight requested in a burst, so both workers publish at the same time (two publishes
    # deadlocked on the results table's partitions before publish took the parent first).
    # Requested one by one as each project was built, one worker could finish every run
    # before the next arrived, and the other would rightly get none.
    run_ids = []
    for project in projects:
        response = client.post(f"/api/projects/{project.id}/agreement-runs/", {}, format="json")
        assert response.status_code == 202
        run_ids.append(response.json()["id"])

    wait_for(
        lambda: AgreementRun.objects.filter(pk__in=run_ids, status="succeeded").count() == len(run_ids),
        timeout=180,
    )
    runs = AgreementRun.objects.filter(pk__in=run_ids)
    assert all(run.attempts == 1 for run in runs)  # exactly once each
    assert all(ItemResult.objects.filter(run=run).count() == 3_000 for run in runs)
    received = {
        name: set(re.findall(r"agreement_run_compute_task\[[^\]]+\] received", log.read_text()))
        for name, log in two_celery_workers.items()
    }
    assert all(received.values()), {name: len(r) for name, r in received.items()}  # both worked
    assert sum(len(r) for r in received.values()) == len(run_ids)  # and no task was taken twice
