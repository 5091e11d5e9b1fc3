"""Fresh numbers without a manual run: a resolution (or a schema change) starts one agreement run
on a real worker once the project has been quiet, however many changes came in the burst."""

import time

import pytest
from django.test import Client, override_settings

from consistency.models import AgreementRun, RunStatus
from labeling.models import Item, Role
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import MembershipFactory, ProjectFactory
from tests.helpers import agreement_run_now, client_for
from tests.worker import celery_worker_process, wait_for  # noqa: F401 — fixture

QUIET = 1


@pytest.fixture
def measured(transactional_db):
    project = ProjectFactory()
    label(project, ANSWERS)
    agreement_run_now(project)
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user
    return project, reviewer


@pytest.mark.worker
@override_settings(CONCORD_AUTORUN_QUIET_SECONDS=QUIET)
def test_a_burst_of_resolutions_starts_one_run_after_the_quiet_period(
    measured,
    celery_worker_process,  # noqa: F811 — the fixture
):
    project, reviewer = measured
    client = client_for(reviewer)
    browser = Client()
    browser.force_login(reviewer)
    first = AgreementRun.objects.get(project=project)
    items = list(Item.objects.filter(project=project).order_by("id")[:3])
    for item in items:
        response = client.post(
            f"/api/items/{item.id}/review/",
            {"action": "resolve", "expected_version": 0, "value": "dent"},
            format="json",
        )
        assert response.status_code == 200, response.content
        time.sleep(QUIET / 3)  # inside the quiet period: each pushes the run back
    last_change = time.time()
    page = browser.get(f"/projects/{project.id}/agreement/").content.decode()
    assert f"Run #{first.number}" in page and "0 answers and 3 decisions since this run" in page

    try:
        run = wait_for(
            lambda: AgreementRun.objects.filter(
                project=project, trigger="auto", status=RunStatus.SUCCEEDED
            ).first(),
            timeout=90,  # generous for a loaded CI machine; the bound below is the claim
        )
    except AssertionError as missing:
        said = "".join(celery_worker_process.log[-80:])
        raise AssertionError(f"no automatic run; the worker said:\n{said}") from missing
    assert run.number == first.number + 1
    assert run.started_at.timestamp() >= last_change + QUIET - 0.5  # not before the quiet period
    assert run.started_at.timestamp() <= last_change + QUIET + 30  # on its own, soon
    time.sleep(QUIET * 2)
    assert AgreementRun.objects.filter(project=project).count() == 2  # one run for the burst
    assert "since this run" not in browser.get(f"/projects/{project.id}/agreement/").content.decode()
