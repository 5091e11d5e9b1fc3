"""POST /api/projects/{id}/items/ with records: in the request, as files, and large files as
jobs; every bad-input class of the issue; permissions. (Media: test_items_import_media.py.)"""

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.jobs.models import Job
from labeling.imports.records import ParseReport, parse_csv
from labeling.models import Item, Role
from tests.factories import MembershipFactory, UserFactory
from tests.helpers import client_for, error_code
from tests.labeling.api.uploads import items_url, job_upload, stored_uploads, upload
from tests.labeling.imports.samples import png, zip_of

pytestmark = pytest.mark.django_db


# --- permissions ------------------------------------------------------------------------------


def test_only_managers_import(records):
    body = [{"external_id": "x", "data": {"a": 1}}]
    for role, status in ((Role.REVIEWER, 403), (Role.LABELER, 403), (Role.PIPELINE, 403)):
        user = MembershipFactory(project=records, role=role).user
        assert client_for(user).post(items_url(records), body, format="json").status_code == status
    assert client_for(UserFactory()).post(items_url(records), body, format="json").status_code == 404
    from rest_framework.test import APIClient

    assert APIClient().post(items_url(records), body, format="json").status_code in (401, 403)
    assert not Item.objects.exists()


# --- records in the request -------------------------------------------------------------------


def test_json_list_with_pairs_is_idempotent(records, staff):
    client = client_for(staff)
    body = [
        {
            "external_id": "p1",
            "data": {"left": {"name": "Bob"}, "right": {"name": "Robert"}},
            "metadata": {"src": "crm"},
        },
        {"external_id": "p2", "data": {"name": "Ann"}},
    ]
    first = client.post(items_url(records), body, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["created"] == 2
    again = client.post(items_url(records), body, format="json").json()
    assert again["created"] == 0 and again["skipped_existing"] == 2
    assert again["files"][0]["skipped_existing_ids"] == ["p1", "p2"]
    item = Item.objects.get(project=records, external_id="p1")
    assert item.data == {"left": {"name": "Bob"}, "right": {"name": "Robert"}}
    assert item.metadata == {"src": "crm"} and item.target == records.overlap


def test_malformed_json_bodies_are_400(records, staff):
    client = client_for(staff)
    broken = client.post(items_url(records), data='[{"external_id": "a",', content_type="application/json")
    assert broken.status_code == 400 and error_code(broken) == "malformed_request"
    assert client.post(items_url(records), {"external_id": "a"}, format="json").status_code == 400
    bad_rows = client.post(items_url(records), [{"external_id": "a", "data": {}}, "text"], format="json")
    assert bad_rows.status_code == 400
    assert bad_rows.json()["error"]["fields"]["rows"] == [
        "line 1: no fields to label",
        "line 2: each row must be an object with fields",
    ]
    assert not Item.objects.exists()


def test_csv_pairs_metadata_and_formula_cells_are_stored_verbatim(records, staff):
    content = (
        b"external_id,left.name,right.name,left.age,region\n"
        b'r1,=SUM(A1),"Bob, Jr.",31,EU\n'
        b'r2,"@cmd|\' /C calc\'!A0","multi\nline",,NA\n'
        b"r1,again,again,1,EU\n"
        b"r3,+1,-1,7.5,\n"
    )
    response = upload(client_for(staff), records, ("pairs.csv", content), metadata_columns="region")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] == 3 and body["duplicates_in_file_count"] == 1
    assert body["files"][0]["duplicates_in_file"] == ["r1"]
    quality = body["files"][0]["quality"]
    assert quality["rows"] == 3
    assert quality["columns"]["left.age"] == {"missing": 1, "distinct": 2, "min": 7.5, "max": 31.0}
    stored = {i.external_id: (i.data, i.metadata) for i in Item.objects.filter(project=records)}
    assert stored["r1"] == (
        {"left": {"name": "=SUM(A1)", "age": "31"}, "right": {"name": "Bob, Jr."}},
        {"region": "EU"},
    )
    # PostgreSQL builds the JSON (Arrow + COPY); it matches the pure-Python reader exactly.
    reference = parse_csv(io.BytesIO(content), frozenset({"region"}), ParseReport())
    assert stored == {r.external_id: (r.data, r.metadata) for r in reference}
    assert Item.objects.get(external_id="r1").quality == {"missing": 0, "fields": 3}
    assert Item.objects.get(external_id="r2").quality == {"missing": 1, "fields": 3}


def test_csv_without_ids_is_keyed_by_content_and_reimports_create_nothing(records, staff):
    client = client_for(staff)
    content = b"name,city\nAnn,Oslo\nBob,Rome\n"
    first = upload(client, records, ("people.csv", content)).json()
    assert first["created"] == 2 and first["files"][0]["ids_from_content"] == 2
    again = upload(client, records, ("people.csv", content)).json()
    assert again["created"] == 0 and again["skipped_existing"] == 2


def test_bad_rows_are_all_listed_and_nothing_is_written(records, staff):
    content = b"external_id,name\na,Ann\nb,Bob,extra\n,NoId\nd\ne,E\x00ve\n"
    response = upload(client_for(staff), records, ("rows.csv", content))
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["rows"] == [
        "line 3: more cells than header columns",
        "line 5: fewer cells than header columns",
        "line 4: missing external_id",
        "line 6: a field contains a NUL character",
    ]
    assert response.json()["error"]["report"]["errors"][0] == {
        "file": "rows.csv",
        "line": 3,
        "reason": "more cells than header columns",
    }
    jsonl = b'{"external_id": "a", "name": "x"}\n{not json}\n{"external_id": "", "name": "y"}\n'
    rows = upload(client_for(staff), records, ("rows.jsonl", jsonl)).json()["error"]["fields"]["rows"]
    assert rows[0].startswith("line 2: invalid JSON") and rows[1] == "line 3: missing external_id"
    assert not Item.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.csv", b"\xff\xfe\x00garbage,,\n", "not a CSV"),
        ("latin1.csv", b"id,name\n1,caf\xe9\n", "cannot be read"),
        ("quote.csv", b'external_id,name\na,"never closed\nb,x\n', "never closed"),
        ("dup.csv", b"id,name,name\n1,a,b\n", "unique, non-empty column names"),
        ("list.json", b'[{"external_id": "a", "data": {"x": 1}', "not valid JSON"),
        ("object.json", b'{"external_id": "a"', "invalid JSON"),
        ("fake.parquet", b"PAR1 not really parquet", "Parquet"),
        ("photo.csv", png(), "not a CSV, JSONL, Parquet or JSON"),
        ("archive.csv", zip_of({"a.csv": b"x"}), "not a CSV, JSONL, Parquet or JSON"),
    ],
)
def test_unreadable_record_files_are_400_before_any_write(records, staff, name, content, message):
    response = upload(client_for(staff), records, ("good.csv", b"id,name\nok,1\n"), (name, content))
    assert response.status_code == 400
    assert message in json.dumps(response.json())
    assert not Item.objects.exists()  # the good file of the same request is not kept either


def test_parquet_with_types(records, staff):
    table = pa.table(
        {
            "external_id": ["q1", "q2"],
            "name": ["Ann", "Bo"],
            "age": [31, None],
            "score": [0.5, float("nan")],
            "seen": pa.array([0, 86_400_000], pa.timestamp("ms")),
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    response = upload(client_for(staff), records, ("data.parquet", out.getvalue()))
    assert response.status_code == 201 and response.json()["created"] == 2
    assert response.json()["files"][0]["quality"]["columns"]["age"]["missing"] == 1
    assert Item.objects.get(external_id="q2").data == {
        "name": "Bo",
        "age": None,
        "score": None,
        "seen": "1970-01-02T00:00:00",
    }


# --- limits -----------------------------------------------------------------------------------


def test_oversize_json_body_is_413(records, staff, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = [{"external_id": f"x{i}", "data": {"a": "y" * 50}} for i in range(10)]
    response = client_for(staff).post(items_url(records), body, format="json")
    assert response.status_code == 413 and error_code(response) == "too_large"


def test_oversize_upload_is_413_and_nothing_is_stored(records, images, staff, settings, media_root):
    settings.CONCORD_MAX_UPLOAD_BYTES = 1000
    big = b"external_id,name\n" + b"".join(b"r%d,name\n" % i for i in range(500))
    response = upload(client_for(staff), records, ("big.csv", big))
    assert response.status_code == 413 and error_code(response) == "too_large"
    response = upload(client_for(staff), images, ("big.png", png(size=(400, 400))))
    assert response.status_code == 413
    assert not Item.objects.exists() and not stored_uploads(media_root) and not Job.objects.exists()


def test_the_upload_handler_stops_reading_a_body_without_length(rf, settings):
    from django.core.files.uploadhandler import StopUpload

    from core.http.uploads import LimitedUploadHandler, upload_too_large

    settings.CONCORD_MAX_UPLOAD_BYTES = 10
    request = rf.post("/")
    handler = LimitedUploadHandler(request)
    assert handler.receive_data_chunk(b"12345", 0) == b"12345"
    with pytest.raises(StopUpload):
        handler.receive_data_chunk(b"678901", 5)
    assert upload_too_large(request)


# --- large record files become a job ----------------------------------------------------------


def test_large_record_files_are_a_job_with_the_same_report(
    records, staff, settings, media_root, django_capture_on_commit_callbacks
):
    settings.CONCORD_IMPORT_INLINE_MAX_BYTES = 100
    rows = b"".join(b"r%d,Name %d,R%d\n" % (i, i, i % 3) for i in range(300))
    content = b"external_id,name,region\n" + rows + b"r4,Repeated,R9\nr7,Again,R9\n"
    job = job_upload(
        client_for(staff),
        records,
        django_capture_on_commit_callbacks,
        ("big.csv", content),
        metadata_columns="region",
    )
    assert job["status"] == "succeeded", job["error"]
    result = job["result"]
    assert result["created"] == 300 and result["rows"] == 302 and job["progress"] == 100
    # Large files keep a hash per id, not the ids: PostgreSQL names the repeats, the first wins.
    assert result["duplicates_in_file_count"] == 2
    assert result["files"][0]["duplicates_in_file"] == ["r4", "r7"]
    assert result["files"][0]["quality"]["rows"] == 300
    assert Item.objects.get(external_id="r4").metadata == {"region": "R1"}
    assert Item.objects.get(external_id="r4").data == {"name": "Name 4"}
    assert not stored_uploads(media_root)  # the per-job folder is gone


def test_large_jsonl_files_settle_repeats_the_same_way(
    records, staff, settings, media_root, django_capture_on_commit_callbacks
):
    settings.CONCORD_IMPORT_INLINE_MAX_BYTES = 100
    lines = [json.dumps({"external_id": f"j{i % 40}", "text": f"t{i}"}) for i in range(50)]
    job = job_upload(
        client_for(staff),
        records,
        django_capture_on_commit_callbacks,
        ("rows.jsonl", "\n".join(lines).encode()),
    )
    assert job["result"]["created"] == 40 and job["result"]["duplicates_in_file_count"] == 10
    assert Item.objects.get(external_id="j3").data == {"text": "t3"}


def test_a_large_json_body_is_a_job(records, staff, settings, media_root, django_capture_on_commit_callbacks):
    settings.CONCORD_IMPORT_INLINE_MAX_BYTES = 100
    body = [{"external_id": f"j{i}", "data": {"text": f"row {i}"}} for i in range(50)]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(staff).post(items_url(records), body, format="json")
    assert response.status_code == 202
    assert client_for(staff).get(response["Location"]).json()["result"]["created"] == 50


def test_a_large_file_with_bad_rows_fails_its_job_listing_them_and_writes_nothing(
    records, staff, settings, media_root, django_capture_on_commit_callbacks
):
    settings.CONCORD_IMPORT_INLINE_MAX_BYTES = 100
    content = b"external_id,name\n" + b"".join(b"r%d,n\n" % i for i in range(100)) + b",no id\nx,1,2\n"
    job = job_upload(client_for(staff), records, django_capture_on_commit_callbacks, ("big.csv", content))
    assert job["status"] == "failed"
    assert "nothing was imported" in job["error"]
    assert "line 102: missing external_id" in job["error"] and "line 103: more cells" in job["error"]
    assert not Item.objects.exists() and not stored_uploads(media_root)


def test_list_items_for_reviewers(records, staff, django_assert_max_num_queries):
    client_for(staff).post(
        items_url(records), [{"external_id": f"i{i}", "data": {"n": i}} for i in range(5)], format="json"
    )
    reviewer = MembershipFactory(project=records, role=Role.REVIEWER).user
    client = client_for(reviewer)
    with django_assert_max_num_queries(6):
        page = client.get(items_url(records) + "?limit=2").json()
    assert page["count"] == 5 and [i["external_id"] for i in page["results"]] == ["i0", "i1"]
