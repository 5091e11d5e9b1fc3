import io
import json
import zipfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf
from PIL import Image

from labeling.models import Item, Role
from tests.factories import MembershipFactory, ProjectFactory
from tests.helpers import client_for, error_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(staff):
    return ProjectFactory(created_by=staff, name="Same person?", data_type="record", classes=["1", "0"])


@pytest.fixture
def images(staff):
    return ProjectFactory(created_by=staff, name="Defects", data_type="image", classes=["dent", "none"])


def _upload(client, project, name, content, **extra):
    return client.post(
        f"/api/projects/{project.id}/items/", {"file": _file(name, content), **extra}, format="multipart"
    )


def _file(name, content):
    f = io.BytesIO(content)
    f.name = name
    return f


def _png(size=(64, 48), color=(128, 128, 128)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def _wav(lead_silence=1.0, tone=1.0, rate=16000) -> bytes:
    t = np.arange(int(tone * rate)) / rate
    signal = np.concatenate([np.zeros(int(lead_silence * rate)), 0.5 * np.sin(2 * np.pi * 440 * t)])
    out = io.BytesIO()
    sf.write(out, signal, rate, format="WAV")
    return out.getvalue()


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
    first = client.post(f"/api/projects/{records.id}/items/", body, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["created"] == 2
    again = client.post(f"/api/projects/{records.id}/items/", body, format="json")
    assert again.json()["created"] == 0 and again.json()["skipped_existing"] == 2
    item = Item.objects.get(project=records, external_id="p1")
    assert item.data == {"left": {"name": "Bob"}, "right": {"name": "Robert"}} and item.metadata == {
        "src": "crm"
    }
    assert item.target == records.overlap


def test_csv_with_pair_columns_metadata_and_formula_cells_kept_verbatim(records, staff):
    csv_text = "external_id,left.name,right.name,region\nr1,=SUM(A1),Bob,EU\nr2,Ann,Anne,NA\nr1,x,y,EU\n"
    response = _upload(client_for(staff), records, "pairs.csv", csv_text.encode(), metadata_columns="region")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] == 2 and body["files"][0]["duplicates_in_file"] == ["r1"]
    item = Item.objects.get(project=records, external_id="r1")
    assert item.data == {"left": {"name": "=SUM(A1)"}, "right": {"name": "Bob"}}
    assert item.metadata == {"region": "EU"}
    quality = body["files"][0]["quality"]
    assert quality["rows"] == 2 and quality["columns"]["left.name"]["distinct"] == 2


def test_malformed_rows_are_all_reported_and_nothing_is_written(records, staff):
    jsonl = b'{"external_id": "a", "name": "x"}\n{not json}\n{"name": "no id"}\n'
    response = _upload(client_for(staff), records, "rows.jsonl", jsonl)
    assert response.status_code == 400
    rows = response.json()["error"]["fields"]["rows"]
    assert any(r.startswith("line 2:") for r in rows) and any(r.startswith("line 3:") for r in rows)
    assert not Item.objects.filter(project=records).exists()


def test_unparseable_csv_is_400_before_any_write(records, staff):
    response = _upload(client_for(staff), records, "bad.csv", b"\xff\xfe\x00garbage,,\n")
    assert response.status_code == 400
    assert not Item.objects.exists()


def test_parquet(records, staff):
    table = pa.table({"external_id": ["q1", "q2"], "name": ["Ann", "Bo"], "age": [31, None]})
    out = io.BytesIO()
    pq.write_table(table, out)
    response = _upload(client_for(staff), records, "data.parquet", out.getvalue())
    assert response.status_code == 201 and response.json()["created"] == 2
    assert response.json()["files"][0]["quality"]["columns"]["age"]["missing"] == 1


def test_images_by_job_with_quality_thumbnail_and_hash_ids(
    images, staff, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(
            client, images, "photo.txt", _png(color=(5, 5, 5))
        )  # the name lies; the bytes decide
    assert response.status_code == 202
    job = client.get(response["Location"]).json()
    assert job["status"] == "succeeded", job
    assert job["result"]["created"] == 1
    item = Item.objects.get(project=images)
    assert item.media.name.endswith(".png") and item.thumbnail and len(item.external_id) == 64
    assert item.quality["width"] == 64 and "almost black" in item.quality["flags"]
    assert item.original_filename == "photo.txt"
    with django_capture_on_commit_callbacks(execute=True):
        again = _upload(client, images, "same.png", _png(color=(5, 5, 5)))
    assert client.get(again["Location"]).json()["result"]["skipped_existing"] == 1


def test_zip_with_sidecar_rejects_bad_entries_and_keeps_good_ones(
    images, staff, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.png", _png(color=(200, 10, 10)))
        z.writestr("b.jpg", b"not really a jpeg")
        z.writestr("metadata.csv", "file,factory,external_id\na.png,Shenzhen,img-a\n")
    client = client_for(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, images, "batch.zip", archive.getvalue())
    result = client.get(response["Location"]).json()["result"]
    assert result["created"] == 1
    assert result["rejected"][0]["file"] == "b.jpg"
    item = Item.objects.get(project=images)
    assert item.external_id == "img-a" and item.metadata == {"factory": "Shenzhen"}


def test_zip_slip_and_bombs_are_refused(
    images, staff, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../etc/evil.png", _png())
    client = client_for(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, images, "evil.zip", archive.getvalue())
    result = client.get(response["Location"]).json()["result"]
    assert result["created"] == 0 and "'..'" in result["rejected"][0]["reason"]
    assert not any(tmp_path.rglob("evil.png"))


def test_pixel_flood_is_refused(images, staff, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    flood = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(flood, "PNG")  # 100 MP in a few kB
    client = client_for(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, images, "flood.png", flood.getvalue())
    result = client.get(response["Location"]).json()["result"]
    assert result["created"] == 0 and "pixel" in result["rejected"][0]["reason"]


def test_audio_quality_reports_leading_silence(staff, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    speech = ProjectFactory(created_by=staff, data_type="audio", label_kind="transcription", classes=[])
    client = client_for(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, speech, "clip.wav", _wav(lead_silence=1.0, tone=1.0))
    assert client.get(response["Location"]).json()["result"]["created"] == 1
    item = Item.objects.get(project=speech)
    assert item.quality["duration"] == pytest.approx(2.0, abs=0.01)
    assert item.quality["leading_silence"] == pytest.approx(1.0, abs=0.05)
    assert item.quality["peak_dbfs"] == pytest.approx(-6.02, abs=0.1)
    peaks = json.loads(item.waveform.read())["peaks"]
    assert max(peaks) == 1.0 and peaks[0] == 0.0


def test_only_managers_import(records):
    reviewer = MembershipFactory(project=records, role=Role.REVIEWER).user
    response = client_for(reviewer).post(
        f"/api/projects/{records.id}/items/", [{"external_id": "x", "data": {"a": 1}}], format="json"
    )
    assert response.status_code == 403
    assert not Item.objects.exists()


def test_oversize_body_is_413(records, staff, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = [{"external_id": f"x{i}", "data": {"a": "y" * 50}} for i in range(10)]
    response = client_for(staff).post(f"/api/projects/{records.id}/items/", body, format="json")
    assert response.status_code == 413
    assert error_code(response) == "too_large"


def test_media_into_record_project_is_400(records, staff):
    response = _upload(client_for(staff), records, "x.png", _png())
    assert response.status_code == 400
