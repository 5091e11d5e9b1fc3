"""A job is read by those who may start its kind now: demoted or removed, its creator no longer
reads its result (an import's report, a snapshot's files)."""

import pytest

from labeling.models import ProjectMembership, Role
from tests.factories import MembershipFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def _set_role(project, user, role):
    ProjectMembership.objects.filter(project=project, user=user).update(role=role)


def test_a_demoted_creator_no_longer_reads_the_job(project):
    manager = MembershipFactory(project=project, role=Role.MANAGER).user
    client = client_for(manager)
    job = client.post(f"/api/projects/{project.id}/stats/refresh/").json()
    url = f"/api/jobs/{job['id']}/"
    assert client.get(url).status_code == 200
    _set_role(project, manager, Role.LABELER)
    assert client.get(url).status_code == 404
    _set_role(project, manager, Role.REVIEWER)  # reviewers start statistics jobs
    assert client.get(url).status_code == 200
    ProjectMembership.objects.filter(project=project, user=manager).delete()
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("role", "status"), [(Role.MANAGER, 200), (Role.REVIEWER, 404), (Role.LABELER, 404), (Role.PIPELINE, 404)]
)
def test_a_snapshot_job_is_read_by_managers_only(project, staff, role, status):
    from consistency.services.exports import snapshot_request
    from tests.factories import ItemFactory, finished_run

    finished_run(project, [{"item": ItemFactory(project=project), "consensus": "dent"}])
    job = snapshot_request(project=project, requested_by=staff, query={})
    reader = MembershipFactory(project=project, role=role).user
    assert client_for(reader).get(f"/api/jobs/{job.id}/").status_code == status
