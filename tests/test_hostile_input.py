"""Bad input is a 4xx in the error shape that says what is wrong, never a 500, and nothing is
written: each case here was a 500 found by a red-team pass (issue 14, item 5)."""

import json

import pytest

from consistency.models import Prediction
from labeling.models import Annotation, Item, LabelSchemaVersion, Project, Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory
from tests.helpers import client_for
from tests.labeling.imports.samples import named

pytestmark = pytest.mark.django_db

HUGE = 10**30


def _deep(levels: int) -> str:
    return '{"value": ' + "[" * levels + "]" * levels + "}"


@pytest.fixture
def setup(project, staff):
    item = ItemFactory(project=project, external_id="a")
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    assert client_for(labeler).get(f"/api/projects/{project.id}/next/").json()["id"] == item.id
    return project, staff, labeler, item


def _records(staff) -> int:
    return ProjectFactory(created_by=staff, data_type="record").id


def _assert_400(response, *words):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    message = json.dumps(response.json()["error"])
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("levels", [33, 100_000])
def test_json_nested_too_deep_is_400_on_every_json_route(setup, levels):
    project, staff, labeler, item = setup
    body = _deep(levels)
    for client, url in [
        (client_for(labeler), f"/api/items/{item.id}/annotations/"),
        (client_for(staff), f"/api/projects/{project.id}/schema-changes/"),
        (client_for(staff), f"/api/projects/{_records(staff)}/items/"),
        (client_for(staff), f"/api/projects/{project.id}/snapshots/"),
        (client_for(staff), "/api/projects/"),
        (client_for(staff), f"/api/items/{item.id}/review/"),
    ]:
        _assert_400(client.post(url, body, content_type="application/json"), "nested more than 32 levels")
    assert not Annotation.objects.exists()


@pytest.mark.parametrize(
    ("text", "says"), [("de\u0000nt", "NUL character"), ("de\ud800nt", "surrogate")], ids=["nul", "surrogate"]
)
def test_nul_and_lone_surrogates_in_any_text_are_400(setup, text, says):
    project, staff, labeler, item = setup
    escaped = json.dumps(text)  # \u0000 / \ud800 as JSON escapes, as a client sends them
    manager = client_for(staff)
    cases = [
        (client_for(labeler), f"/api/items/{item.id}/annotations/", f'{{"value": {escaped}}}'),
        (
            client_for(labeler),
            f"/api/items/{item.id}/annotations/",
            f'{{"value": "dent", "comment": {escaped}}}',
        ),
        (manager, "/api/projects/", f'{{"name": {escaped}, "classes": ["a", "b"]}}'),
        (manager, "/api/projects/", f'{{"name": "p", "classes": [{escaped}, "b"]}}'),
        (manager, f"/api/projects/{project.id}/schema-changes/", f'{{"op": "add_class", "name": {escaped}}}'),
        (
            manager,
            f"/api/projects/{_records(staff)}/items/",
            f'[{{"external_id": {escaped}, "data": {{"t": 1}}}}]',
        ),
        (
            manager,
            f"/api/projects/{_records(staff)}/items/",
            f'[{{"external_id": "x", "data": {{{escaped}: 1}}}}]',
        ),
    ]
    for client, url, body in cases:
        _assert_400(client.post(url, body, content_type="application/json"), says)
    gold = f'{{"value": {escaped}}}'
    _assert_400(
        manager.put(
            f"/api/projects/{project.id}/items/{item.id}/gold/", gold, content_type="application/json"
        )
    )
    query = text.replace("\ud800", "%ED%A0%80")  # what a client sends; Django decodes it to U+FFFD
    if "\x00" in text:
        _assert_400(manager.get(f"/api/projects/{project.id}/disagreements/", {"slice": f"f:{query}"}), says)
        _assert_400(manager.get(f"/api/projects/{project.id}/export/", {"stratify_by": query}), says)
    else:
        assert manager.get(f"/api/projects/{project.id}/disagreements/?slice=f:{query}").status_code < 500
    assert not Annotation.objects.exists() and not Project.objects.filter(name="p").exists()
    assert Item.objects.count() == 1 and LabelSchemaVersion.objects.filter(project=project).count() == 1


def test_nul_in_uploaded_files_is_400_and_nothing_is_stored(setup):
    project, staff, _, _ = setup
    manager = client_for(staff)
    url = f"/api/projects/{project.id}/annotations/import/"
    for name, content in [
        ("labels.csv", b"external_id,labeler,value\na,ana,de\x00nt\n"),
        ("labels.jsonl", b'{"external_id": "a", "labeler": "ana", "value": "de\\u0000nt"}\n'),
        ("ls.json", json.dumps([{"id": "t\x00", "data": {"image": "x"}, "annotations": []}]).encode()),
        ("ls.json", json.dumps([{"id": 7, "data": {"text": "a\x00"}, "annotations": []}]).encode()),
    ]:
        _assert_400(manager.post(url, {"file": named(name, content)}, format="multipart"), "NUL")
    for name, content in [
        ("p.csv", b"external_id,value\na,de\x00nt\n"),
        ("p.jsonl", b'{"external_id": "a", "value": "de\\u0000nt"}\n'),
        ("p.jsonl", b'{"external_id": "a", "value": ' + b"[" * 5000 + b"]" * 5000 + b"}\n"),
    ]:
        response = manager.post(
            f"/api/projects/{project.id}/predictions/",
            {"file": named(name, content), "model_version": "m1"},
            format="multipart",
        )
        assert response.status_code == 400, response.content[:300]
    assert not Annotation.objects.exists() and not Prediction.objects.exists() and Item.objects.count() == 1


def test_huge_integers_in_query_parameters_ids_and_bodies_are_400(setup):
    project, staff, labeler, _ = setup
    manager = client_for(staff)
    _assert_400(manager.get(f"/api/projects/{project.id}/items/", {"limit": HUGE}), "limit", "64-bit")
    _assert_400(manager.get(f"/api/projects/{project.id}/items/", {"offset": -HUGE}), "64-bit")
    _assert_400(manager.get(f"/api/projects/{project.id}/items/", {"limit": "9" * 5000}), "64-bit")
    assert manager.get(f"/api/projects/{project.id}/items/", {"limit": "0" * 30 + "5"}).status_code == 200
    _assert_400(manager.get(f"/api/projects/{project.id}/disagreements/", {"labeler": HUGE}), "64-bit")
    _assert_400(manager.get(f"/api/projects/{HUGE}/"), "64-bit")
    _assert_400(client_for(labeler).post(f"/api/items/{HUGE}/annotations/", {"value": "dent"}, format="json"))
    _assert_400(
        manager.post(
            f"/api/projects/{project.id}/items/overlap/",
            f'{{"item_ids": [{HUGE}], "target": 2}}',
            content_type="application/json",
        ),
        "64-bit",
    )
    page = client_for(staff)
    page.force_login(staff)
    assert page.get(f"/projects/{project.id}/review/?labeler={HUGE}").status_code == 400
    assert page.get(f"/projects/{HUGE}/").status_code == 400


def test_the_listed_merge_snapshot_and_label_studio_cases_are_400(setup):
    project, staff, _, _ = setup
    manager = client_for(staff)
    url = f"/api/projects/{project.id}/schema-changes/"
    _assert_400(
        manager.post(url, {"op": "merge", "classes": [{}, {}], "into": "x"}, format="json"), "classes"
    )
    for body, field in [({"split": ["a"]}, "split"), ({"slice": 5}, "slice"), ({"seed": {}}, "seed")]:
        _assert_400(manager.post(f"/api/projects/{project.id}/snapshots/", body, format="json"), field)
    for result in [
        {"type": "choices", "value": [1]},
        {"type": "choices", "value": {"choices": "dent"}},
        {
            "type": "rectanglelabels",
            "original_width": "100",
            "original_height": 100,
            "value": {"x": 1, "y": 1, "width": 1, "height": 1, "rectanglelabels": ["dent"]},
        },
    ]:
        export = [
            {"id": "a", "data": {"image": "x"}, "annotations": [{"completed_by": 1, "result": [result]}]}
        ]
        box_project = ProjectFactory(created_by=staff, label_kind="boxes")
        for target in (project, box_project):
            response = manager.post(
                f"/api/projects/{target.id}/annotations/import/",
                {"file": named("ls.json", json.dumps(export).encode())},
                format="multipart",
            )
            _assert_400(response)
    assert not Annotation.objects.exists()


def test_every_api_view_parses_bodies_with_the_checking_parsers():
    """A view naming DRF's own parsers would skip the depth, NUL and 64-bit checks."""
    from django.urls import get_resolver
    from rest_framework.views import APIView

    from core.api import parsers

    def walk(patterns):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns)
            else:
                yield pattern.callback

    ours = {parsers.JSONParser, parsers.MultiPartParser, parsers.FormParser}
    views = [getattr(cb, "view_class", None) for cb in walk(get_resolver().url_patterns)]
    api_views = [v for v in views if isinstance(v, type) and issubclass(v, APIView)]
    assert len(api_views) > 20
    for view in api_views:
        assert {type(parser) for parser in view().get_parsers()} <= ours, view


def test_found_by_the_fuzz_suite(setup):
    """A refused review at a stale version wrote an empty review row; a CSV cell over the csv
    module's field limit in a predictions file was a 500."""
    from consistency.models import Review

    project, staff, _, item = setup
    manager = client_for(staff)
    stale = {"action": "lacks_information", "expected_version": 2325}
    assert manager.post(f"/api/items/{item.id}/review/", stale, format="json").status_code == 409
    assert not Review.objects.exists()
    long_cell = b"external_id,value\n" + b"[" * 200_000 + b"\n"
    response = manager.post(
        f"/api/projects/{project.id}/predictions/",
        {"file": named("p.csv", long_cell), "model_version": "m1"},
        format="multipart",
    )
    _assert_400(response)
