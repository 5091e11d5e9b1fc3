import pytest

from labeling.models import Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_data_page_shows_histograms_outliers_and_slices(client, staff):
    project = ProjectFactory(created_by=staff)
    for i in range(5):
        ItemFactory(
            project=project,
            metadata={"camera": "c1" if i < 3 else "c2"},
            quality={
                "width": 320,
                "height": 240,
                "brightness": 10 + 40 * i,
                "contrast": 30,
                "blur": 100,
                "flags": ["almost black"] if i == 0 else [],
            },
        )
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/data/").content.decode()
    assert "Mean brightness" in html and "almost black" in html and "Drop files here" in html
    assert ">c1<" in html and ">3<" in html


def test_reviewers_see_data_but_cannot_upload_and_labelers_get_403(client, project):
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.id}/data/").content.decode()
    assert "Drop files here" not in html
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    client.force_login(labeler)
    assert client.get(f"/projects/{project.id}/data/").status_code == 403
