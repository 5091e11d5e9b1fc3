import pytest

from labeling.models import Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_pages_need_login(client, project):
    for url in ["/", f"/projects/{project.id}/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_project_page_shows_real_data(client, project, staff):
    ItemFactory(project=project, external_id="img-0042", metadata={"camera": "C1"})
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert "Browse all 1 items" in html and "shallow scratch" in html
    html = client.get(f"/projects/{project.id}/items/").content.decode()
    assert "img-0042" in html and "camera: C1" in html


def test_other_members_project_page_is_404(client, project, user):
    client.force_login(user)
    assert client.get(f"/projects/{project.id}/").status_code == 404


def test_instructions_markdown_is_sanitized(client, staff):
    project = ProjectFactory(
        created_by=staff, instructions="**Bold** <script>alert(1)</script> [x](javascript:alert(1))"
    )
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert "<strong>Bold</strong>" in html
    assert "<script>alert" not in html
    assert "javascript:" not in html


def test_class_names_render_as_text(client, staff):
    project = ProjectFactory(created_by=staff, classes=["<img src=x onerror=alert(1)>", "ok"])
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x" in html


def test_labeler_cannot_start_stats_refresh(client, project):
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    client.force_login(labeler)
    response = client.post(f"/projects/{project.id}/stats/refresh/")
    assert response.status_code == 403
    assert not project.jobs.exists()


def test_labelers_do_not_see_the_item_list_or_its_metadata(client, project):
    ItemFactory(project=project, external_id="img-secret", metadata={"_truth": "dent"})
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    client.force_login(labeler)
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert "img-secret" not in html and "_truth" not in html
    assert "Start labeling" in html
