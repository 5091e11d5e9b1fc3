import json
import re

import pytest

from labeling.models import LabelClass, Role
from labeling.views.workspace import class_keys
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _config(html: str) -> dict:
    found = re.search(r'<script id="workspace-config" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_workspace_is_404_for_non_members(client, project, user):
    client.force_login(user)
    assert client.get(f"/projects/{project.id}/label/").status_code == 404
    assert client.get("/projects/999999/label/").status_code == 404


def test_workspace_needs_a_login(client, project):
    response = client.get(f"/projects/{project.id}/label/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_workspace_renders_classes_keys_and_sanitized_definitions(client):
    project = ProjectFactory(instructions="**Worst** defect only.\n\n<script>alert(1)</script>")
    LabelClass.objects.filter(schema_version__project=project, name="dent").update(description="<b>round</b>")
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    client.force_login(labeler)
    html = client.get(f"/projects/{project.id}/label/").content.decode()
    assert 'data-class="deep scratch"' in html and 'aria-keyshortcuts="1"' in html
    assert "<strong>Worst</strong>" in html
    assert "alert(1)</script>" not in html and "<b>round</b>" not in html
    # The only script elements: the JSON data block and the module loaded from static files.
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert all('type="application/json"' in s or "src=" in s for s in scripts), scripts
    config = _config(html)
    assert [c["key"] for c in config["classes"]] == ["1", "2", "3", "4"]
    assert config["urls"]["next"] == f"/api/projects/{project.id}/next/"
    assert config["urls"]["submit"] == "/api/items/{id}/annotations/"
    assert "lacks_information" in [r["value"] for r in config["skipReasons"]]


@pytest.mark.parametrize(
    ("data_type", "label_kind", "classes", "marker"),
    [
        ("image", "boxes", ["scratch", "dent"], 'id="box-layer"'),
        ("audio", "transcription", [], 'id="transcript"'),
        ("audio", "classes", ["speech", "noise"], 'id="waveform"'),
        ("record", "classes", ["1", "0", "borderline"], 'id="record"'),
    ],
)
def test_workspace_has_the_panel_of_its_data_type(client, data_type, label_kind, classes, marker):
    project = ProjectFactory(data_type=data_type, label_kind=label_kind, classes=classes)
    client.force_login(MembershipFactory(project=project, role=Role.LABELER).user)
    response = client.get(f"/projects/{project.id}/label/")
    assert response.status_code == 200
    assert marker in response.content.decode()


def test_class_keys_prefer_the_class_name_then_free_digits():
    assert class_keys(["1", "0", "borderline"]) == {"1": "1", "0": "0", "borderline": "2"}
    assert class_keys(["yes", "no"]) == {"yes": "1", "no": "2"}
    assert class_keys(["y", "n", "s"]) == {"y": "y", "n": "n", "s": "1"}  # s is the skip key
    many = class_keys([f"class {i}" for i in range(12)])
    assert list(many.values()) == [*"1234567890", "", ""]


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


def test_media_answers_byte_ranges_so_audio_can_seek(client, project, tmp_path, settings):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    item = ItemFactory(project=project)
    content = bytes(range(256)) * 40  # 10,240 bytes
    item.media.save("clip.wav", ContentFile(content))
    client.force_login(MembershipFactory(project=project, role=Role.LABELER).user)
    url = f"/items/{item.id}/media/media/"

    whole = client.get(url)
    assert whole.status_code == 200 and whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == content

    part = client.get(url, HTTP_RANGE="bytes=1000-1999")
    assert part.status_code == 206
    assert part["Content-Range"] == "bytes 1000-1999/10240" and part["Content-Length"] == "1000"
    assert b"".join(part.streaming_content) == content[1000:2000]
    assert part["Content-Type"] == "audio/wav" and part["X-Content-Type-Options"] == "nosniff"

    tail = client.get(url, HTTP_RANGE="bytes=-100")
    assert tail["Content-Range"] == "bytes 10140-10239/10240"
    assert b"".join(tail.streaming_content) == content[-100:]
    open_ended = client.get(url, HTTP_RANGE="bytes=10000-")
    assert b"".join(open_ended.streaming_content) == content[10000:]

    beyond = client.get(url, HTTP_RANGE="bytes=20000-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == "bytes */10240"
    several = client.get(url, HTTP_RANGE="bytes=0-1,5-6")  # several ranges: the whole file
    assert several.status_code == 200 and b"".join(several.streaming_content) == content
