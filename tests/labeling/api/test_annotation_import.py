import io
import json

import pytest
from django.contrib.auth import get_user_model

from labeling.models import Annotation, Item, Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def _post(client, project, name, content: bytes):
    f = io.BytesIO(content)
    f.name = name
    return client.post(f"/api/projects/{project.id}/annotations/import/", {"file": f}, format="multipart")


def test_csv_labels_create_inactive_labelers_and_are_idempotent(project, staff):
    ItemFactory(project=project, external_id="img-1")
    ItemFactory(project=project, external_id="img-2")
    csv_text = "external_id,labeler,value\nimg-1,ana,dent\nimg-1,ben,none\nimg-2,ana,dent\nimg-9,ana,dent\n"
    client = client_for(staff)
    response = _post(client, project, "labels.csv", csv_text.encode())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] == 3 and body["unknown_external_ids"] == [{"line": 5, "external_id": "img-9"}]
    ana = get_user_model().objects.get(username="ana")
    assert not ana.is_active and not ana.has_usable_password()
    assert Annotation.objects.filter(source="import").count() == 3
    assert Item.objects.get(project=project, external_id="img-1").slots_taken == 2
    again = _post(client, project, "labels.csv", csv_text.encode()).json()
    assert again["created"] == 0 and again["skipped_existing"] == 3


def test_unknown_classes_are_reported_and_nothing_written(project, staff):
    ItemFactory(project=project, external_id="img-1")
    response = _post(
        client_for(staff),
        project,
        "x.jsonl",
        b'{"external_id": "img-1", "labeler": "ana", "value": "scratch"}\n',
    )
    assert response.status_code == 400
    assert "unknown class 'scratch' (1 answers)" in response.json()["error"]["fields"]["rows"]
    assert not Annotation.objects.exists()


def test_label_studio_export_maps_tasks_annotations_and_rectangles(staff):
    project = ProjectFactory(created_by=staff, label_kind="boxes", classes=["dent", "scratch"])
    rectangle = {
        "type": "rectanglelabels",
        "original_width": 200,
        "original_height": 100,
        "value": {"x": 10, "y": 20, "width": 50, "height": 30, "rectanglelabels": ["dent"]},
    }
    export = [
        {
            "id": 101,
            "data": {"image": "/data/upload/phone.png"},
            "annotations": [
                {"completed_by": 7, "result": [rectangle]},
                {"completed_by": {"email": "sme@example.com"}, "result": []},
            ],
        }
    ]
    response = _post(client_for(staff), project, "export.json", json.dumps(export).encode())
    assert response.status_code == 201, response.json()
    assert response.json()["items_created"] == 1
    item = Item.objects.get(project=project, external_id="101")
    assert item.data == {"image": "/data/upload/phone.png"}
    boxes = Annotation.objects.get(item=item, labeler__username="ls-7").value
    assert boxes == [{"x": 20.0, "y": 20.0, "w": 100.0, "h": 30.0, "class": "dent"}]


def test_label_studio_choices(staff):
    project = ProjectFactory(created_by=staff, data_type="record", classes=["1", "0"])
    choice = lambda v: [{"type": "choices", "value": {"choices": [v]}}]  # noqa: E731
    export = [
        {
            "id": 5,
            "data": {"left": {"n": "a"}, "right": {"n": "b"}},
            "annotations": [
                {"completed_by": 1, "result": choice("1")},
                {"completed_by": 2, "result": choice("0")},
            ],
        }
    ]
    assert _post(client_for(staff), project, "ls.json", json.dumps(export).encode()).json()["created"] == 2


def test_garbage_is_400_and_labelers_get_403(project, staff):
    assert _post(client_for(staff), project, "x.csv", b"a,b\n1,2\n").status_code == 400
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    assert _post(client_for(labeler), project, "x.csv", b"external_id,labeler,value\n").status_code == 403
