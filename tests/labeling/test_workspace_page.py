import pytest

from labeling.models import Role
from tests.factories import ItemFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_workspace_is_404_for_non_members(client, project, user):
    client.force_login(user)
    assert client.get(f"/projects/{project.id}/label/").status_code == 404


def test_workspace_renders_classes_and_sanitized_definitions(client, project):
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    client.force_login(labeler)
    html = client.get(f"/projects/{project.id}/label/").content.decode()
    assert 'data-class="deep scratch"' in html and "workspace-config" in html
    assert "<script>" not in html.split("workspace-config")[1].split("</script>")[1]


def test_media_is_members_only_with_safe_headers(client, project, user, tmp_path, settings):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    item = ItemFactory(project=project)
    item.media.save("x.svg", ContentFile(b"<svg onload='alert(1)'/>"))
    client.force_login(user)
    assert client.get(f"/items/{item.id}/media/media/").status_code == 404
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    client.force_login(labeler)
    response = client.get(f"/items/{item.id}/media/media/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response["Content-Disposition"]
