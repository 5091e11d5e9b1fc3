"""POST /api/projects/{id}/annotations/import/: CSV/JSONL rows and Label Studio exports."""

import json

import pytest
from django.contrib.auth import get_user_model

from labeling.models import Annotation, Assignment, Item, ProjectMembership, Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory
from tests.helpers import client_for
from tests.labeling.imports.samples import named

pytestmark = pytest.mark.django_db


def _post(client, project, name, content: bytes):
    return client.post(
        f"/api/projects/{project.id}/annotations/import/", {"file": named(name, content)}, format="multipart"
    )


def _choice(*names):
    return [{"type": "choices", "value": {"choices": list(names)}}]


def test_csv_labels_create_inactive_labelers_and_are_idempotent(project, staff):
    ItemFactory(project=project, external_id="img-1")
    ItemFactory(project=project, external_id="img-2")
    csv_text = "external_id,labeler,value\nimg-1,ana,dent\nimg-1,ben,none\nimg-2,ana,Dent\nimg-9,ana,dent\n"
    client = client_for(staff)
    response = _post(client, project, "labels.csv", csv_text.encode())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] == 3 and body["rows"] == 4
    assert body["unknown_external_ids"] == [{"line": 5, "external_id": "img-9"}]
    assert body["classes_mapped"] == {"Dent": "dent"} and body["labelers_import_only"] == ["ana", "ben"]
    ana = get_user_model().objects.get(username=f"import:{project.id}:ana")
    assert not ana.is_active and not ana.has_usable_password()
    assert ProjectMembership.objects.get(project=project, user=ana).role == Role.LABELER
    annotation = Annotation.objects.get(item__external_id="img-2")
    assert annotation.source == "import" and annotation.value == "dent" and annotation.is_current
    assert annotation.schema_version == project.schema_version
    assert annotation.assignment.status == "submitted" and annotation.assignment.labeler == ana
    assert Item.objects.get(project=project, external_id="img-1").slots_taken == 2
    again = _post(client, project, "labels.csv", csv_text.encode()).json()
    assert again["created"] == 0 and again["skipped_existing"] == 3
    assert Annotation.objects.count() == 3 and Assignment.objects.count() == 3


def test_k_grows_for_items_with_more_answers_and_gold_items_hold_no_slots(staff):
    project = ProjectFactory(created_by=staff, overlap=2)
    ItemFactory(project=project, external_id="a")
    ItemFactory(project=project, external_id="g", is_gold=True, gold_value="dent")
    rows = "".join(f"a,l{i},dent\ng,l{i},dent\n" for i in range(3))
    assert (
        _post(client_for(staff), project, "x.csv", f"external_id,labeler,value\n{rows}".encode()).status_code
        == 201
    )
    a, g = Item.objects.get(external_id="a"), Item.objects.get(external_id="g")
    assert (a.slots_taken, a.target) == (3, 3)
    assert (g.slots_taken, g.target) == (0, 2)


def test_an_existing_real_labeler_keeps_their_role_and_account(project, staff):
    ItemFactory(project=project, external_id="img-1")
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER, user=UserFactory(username="sme")).user
    assert (
        _post(client_for(staff), project, "x.csv", b"external_id,labeler,value\nimg-1,sme,dent\n").status_code
        == 201
    )
    reviewer.refresh_from_db()
    assert reviewer.is_active and ProjectMembership.objects.get(user=reviewer).role == Role.REVIEWER


def test_unknown_classes_and_bad_rows_are_reported_and_nothing_written(project, staff):
    ItemFactory(project=project, external_id="img-1")
    content = (
        b'{"external_id": "img-1", "labeler": "ana", "value": "scratch"}\n'
        b'{"external_id": "img-1", "labeler": "", "value": "dent"}\n'
        b'{"external_id": "img-1", "labeler": "bo", "value": ["dent"]}\n'
        b'{"external_id": "img-1", "labeler": "cy", "value": "dent"}\n'
    )
    response = _post(client_for(staff), project, "x.jsonl", content)
    assert response.status_code == 400
    rows = response.json()["error"]["fields"]["rows"]
    assert "unknown class 'scratch' (1 answers)" in rows
    assert "line 2: missing labeler" in rows and any(
        r.startswith("line 3: Expected a class name") for r in rows
    )
    assert response.json()["error"]["report"]["unknown_classes"] == {"scratch": 1}
    assert not Annotation.objects.exists()
    assert not get_user_model().objects.filter(username__endswith="cy").exists()


def test_multi_class_and_box_values_from_csv(staff):
    multi = ProjectFactory(created_by=staff, label_kind="multi_classes", classes=["dent", "scratch", "none"])
    ItemFactory(project=multi, external_id="m1")
    ItemFactory(project=multi, external_id="m2")
    content = b'external_id,labeler,value\nm1,ana,"[""dent"", ""scratch""]"\nm2,ana,scratch|dent\n'
    assert _post(client_for(staff), multi, "m.csv", content).status_code == 201
    assert sorted(Annotation.objects.values_list("value", flat=True)) == [["dent", "scratch"]] * 2


def test_label_studio_export_maps_tasks_annotations_and_rectangles(staff):
    project = ProjectFactory(created_by=staff, label_kind="boxes", classes=["dent", "scratch"])
    rectangle = {
        "type": "rectanglelabels",
        "original_width": 200,
        "original_height": 100,
        "value": {"x": 10, "y": 20, "width": 50, "height": 30, "rotation": 0, "rectanglelabels": ["dent"]},
    }
    export = [
        {
            "id": 101,
            "data": {"image": "/data/upload/phone.png"},
            "meta": {"factory": "Shenzhen"},
            "annotations": [
                {
                    "completed_by": 7,
                    "result": [rectangle, {"type": "relation", "from_id": "a", "to_id": "b"}],
                },
                {"completed_by": {"email": "sme@example.com"}, "result": []},
                {"completed_by": 8, "result": [rectangle], "was_cancelled": True},
            ],
        }
    ]
    client = client_for(staff)
    response = _post(client, project, "export.json", json.dumps(export).encode())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["items_created"] == 1 and body["created"] == 2
    assert body["ignored"]["unsupported result type 'relation'"] == 1
    assert body["ignored"]["cancelled annotations"] == 1
    item = Item.objects.get(project=project, external_id="101")
    assert item.data == {"image": "/data/upload/phone.png"} and item.metadata == {"factory": "Shenzhen"}
    boxes = Annotation.objects.get(item=item, labeler__username=f"import:{project.id}:ls-7").value
    assert boxes == [{"x": 20.0, "y": 20.0, "w": 100.0, "h": 30.0, "class": "dent"}]
    sme = f"import:{project.id}:ls-sme@example.com"
    assert Annotation.objects.get(item=item, labeler__username=sme).value == []
    again = _post(client, project, "export.json", json.dumps(export).encode()).json()
    assert again["items_created"] == 0 and again["created"] == 0 and again["skipped_existing"] == 2


def test_label_studio_choices_pairs_and_text(staff):
    pairs = ProjectFactory(created_by=staff, data_type="record", classes=["1", "0"])
    export = [
        {
            "id": 5,
            "data": {"left": {"n": "a"}, "right": {"n": "b"}},
            "annotations": [
                {"completed_by": 1, "result": _choice("1")},
                {"completed_by": 2, "result": _choice("0")},
                {"completed_by": 3, "result": []},
            ],
        },
        {"id": 6, "data": {"left": {"n": "c"}, "right": {"n": "d"}}},
    ]
    body = _post(client_for(staff), pairs, "ls.json", json.dumps(export).encode()).json()
    assert body["created"] == 2 and body["items_created"] == 2 and body["ignored"] == {"empty annotations": 1}
    speech = ProjectFactory(created_by=staff, data_type="audio", label_kind="transcription", classes=[])
    text = [{"type": "textarea", "value": {"text": ["hello  there"]}}]
    export = [
        {"id": 9, "data": {"audio": "/data/a.wav"}, "annotations": [{"completed_by": 1, "result": text}]}
    ]
    body = _post(client_for(staff), speech, "ls.json", json.dumps(export).encode()).json()
    assert Annotation.objects.get(item__project=speech).value == "hello there"
    assert body["ignored"] == {"items created without media (upload the files separately)": 1}


def test_label_studio_problems_are_listed(staff):
    project = ProjectFactory(created_by=staff, classes=["dent", "none"])
    no_size = {
        "type": "rectanglelabels",
        "value": {"x": 1, "y": 1, "width": 1, "height": 1, "rectanglelabels": ["dent"]},
    }
    export = [
        {
            "id": 1,
            "data": {"image": "1.png"},
            "annotations": [{"completed_by": 1, "result": _choice("dent", "none")}],
        },
        {
            "id": 2,
            "data": {"image": "2.png"},
            "annotations": [{"completed_by": 1, "result": _choice("Scratch")}],
        },
    ]
    response = _post(client_for(staff), project, "ls.json", json.dumps(export).encode())
    assert response.status_code == 400
    rows = response.json()["error"]["fields"]["rows"]
    assert "line 1: task 1: 2 choices (dent, none) for a single-class project" in rows
    assert "unknown class 'Scratch' (1 answers)" in rows
    assert not Item.objects.filter(project=project).exists()  # the tasks' items are rolled back too
    boxes = ProjectFactory(created_by=staff, label_kind="boxes", classes=["dent"])
    export = [
        {"id": 3, "data": {"image": "3.png"}, "annotations": [{"completed_by": 1, "result": [no_size]}]}
    ]
    rows = _post(client_for(staff), boxes, "ls.json", json.dumps(export).encode()).json()["error"]["fields"][
        "rows"
    ]
    assert rows == [
        "line 1: task 3: a rectangle needs original_width as a positive number of pixels (got null)"
    ]


def test_a_json_list_of_rows_is_not_mistaken_for_label_studio(project, staff):
    ItemFactory(project=project, external_id="img-1")
    rows = [{"external_id": "img-1", "labeler": "ana", "value": "dent"}]
    assert _post(client_for(staff), project, "rows.json", json.dumps(rows).encode()).json()["created"] == 1


@pytest.mark.parametrize(
    "content",
    [
        b"a,b\n1,2\n",
        b"\xff\xfe\x00\x01",
        b'[{"id": 1, "data": {}',
        b'{"external_id": "x"',
        b'[{"id": 1, "data": 5}]',
    ],
)
def test_unreadable_files_are_400(project, staff, content):
    response = _post(client_for(staff), project, "x.csv", content)
    assert response.status_code == 400, response.json()
    assert "cannot be read" in response.json()["error"]["message"]


def test_permissions_and_missing_file(project, staff):
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    assert _post(client_for(labeler), project, "x.csv", b"external_id,labeler,value\n").status_code == 403
    assert (
        _post(client_for(UserFactory()), project, "x.csv", b"external_id,labeler,value\n").status_code == 404
    )
    response = client_for(staff).post(
        f"/api/projects/{project.id}/annotations/import/", {}, format="multipart"
    )
    assert response.status_code == 400


def test_a_large_file_of_labels_is_a_job(
    project, staff, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    settings.CONCORD_IMPORT_INLINE_MAX_BYTES = 10
    ItemFactory(project=project, external_id="img-1")
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client_for(staff), project, "x.csv", b"external_id,labeler,value\nimg-1,ana,dent\n")
    assert response.status_code == 202
    job = client_for(staff).get(response["Location"]).json()
    assert job["status"] == "succeeded" and job["result"]["created"] == 1
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


@pytest.mark.parametrize(
    ("task", "says"),
    [
        ({"id": "a\x00", "data": {"image": "x"}}, "NUL"),
        ({"id": 1, "data": {"text": "x" * 2_000_000}}, "longer than 100,000 characters"),
        ({"id": 1, "data": {}}, "no fields to label"),
        ({"id": "x" * 300, "data": {"image": "x"}}, "longer than 255"),
        ({"id": 1, "data": {"image": "x"}, "meta": {"k": "\ud800"}}, "surrogate"),
    ],
    ids=["nul-id", "huge-field", "empty-data", "long-id", "surrogate-meta"],
)
def test_label_studio_tasks_get_the_checks_of_an_item_import(project, staff, task, says):
    export = [{**task, "annotations": [{"completed_by": 1, "result": _choice("dent")}]}]
    content = json.dumps(export).encode()
    response = _post(client_for(staff), project, "ls.json", content)
    assert response.status_code == 400 and says in response.json()["error"]["message"]
    assert not Item.objects.filter(project=project).exists() and not Annotation.objects.exists()


def test_imports_never_attach_outside_accounts_take_usernames_or_reveal_them(project):
    """A non-staff manager imported labelers `victim, manager, admin, root`: inactive accounts
    squatted admin/root, the answer said which names existed, and victim became a member."""
    User = get_user_model()
    manager = MembershipFactory(project=project, role=Role.MANAGER, user=UserFactory(username="manager")).user
    victim, admin = UserFactory(username="victim"), UserFactory(username="admin", is_staff=True)
    ItemFactory(project=project, external_id="img-1")
    rows = "".join(f"img-1,{name},dent\n" for name in ("victim", "manager", "admin", "root"))
    response = _post(client_for(manager), project, "x.csv", f"external_id,labeler,value\n{rows}".encode())
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["labelers_members"] == ["manager"]
    assert body["labelers_import_only"] == ["admin", "root", "victim"]  # existing or not: the same
    assert not User.objects.filter(username="root").exists()
    assert not ProjectMembership.objects.filter(project=project, user__in=[victim, admin]).exists()
    assert not Annotation.objects.filter(labeler__in=[victim, admin]).exists()
    imported = User.objects.filter(username__startswith=f"import:{project.id}:")
    assert imported.count() == 3 and not imported.filter(is_active=True).exists()
    assert not any(u.has_usable_password() for u in imported)
    assert Annotation.objects.filter(item__external_id="img-1").count() == 4
    again = _post(client_for(manager), project, "x.csv", f"external_id,labeler,value\n{rows}".encode()).json()
    assert again["created"] == 0 and again["skipped_existing"] == 4 and imported.count() == 3
