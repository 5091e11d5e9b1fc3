"""POST /api/projects/{id}/items/ with media files and zips (jobs), their safety checks, and
serving media to members only."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from core.jobs.models import Job
from labeling.models import Item
from tests.factories import ProjectFactory, UserFactory
from tests.helpers import client_for
from tests.labeling.api.uploads import items_url, job_upload, stored_uploads, upload
from tests.labeling.imports.samples import clip, jpeg, png, zip_of

pytestmark = pytest.mark.django_db


# --- media: jobs ------------------------------------------------------------------------------


def test_images_by_job_with_quality_thumbnail_and_their_file_names_as_ids(
    images, staff, media_root, django_capture_on_commit_callbacks
):
    client = client_for(staff)
    job = job_upload(client, images, django_capture_on_commit_callbacks, ("photo.txt", png(color=(5, 5, 5))))
    assert job["status"] == "succeeded", job
    assert job["result"]["created"] == 1
    item = Item.objects.get(project=images)
    assert item.media.name.endswith(".png") and item.thumbnail and len(item.content_hash) == 64
    assert item.external_id == "photo.txt"  # the name a pipeline joins the export back on
    assert "photo" not in item.media.name  # a server-made name; the original is metadata only
    assert item.quality["width"] == 64 and "almost black" in item.quality["flags"]
    assert item.original_filename == "photo.txt"
    again = job_upload(client, images, django_capture_on_commit_callbacks, ("same.png", png(color=(5, 5, 5))))
    assert again["result"]["skipped_existing"] == 1 and again["result"]["created"] == 0  # same bytes
    assert again["result"]["skipped_existing_ids"] == ["photo.txt"]
    assert not stored_uploads(media_root)


def test_media_names_are_kept_and_numbered_only_on_a_real_clash(
    images, staff, media_root, django_capture_on_commit_callbacks
):
    client = client_for(staff)
    first = job_upload(
        client, images, django_capture_on_commit_callbacks, ("IMG_0042.jpg", png(color=(1, 1, 1)))
    )
    assert first["result"]["created"] == 1
    archive = zip_of(
        {
            "IMG_0042.jpg": png(color=(2, 2, 2)),  # another photo of the same name
            "line-b/IMG_0042.jpg": png(color=(3, 3, 3)),  # the path inside the zip keeps it apart
            "copy.jpg": png(color=(1, 1, 1)),  # the same bytes as the first upload: skipped
        }
    )
    job = job_upload(client, images, django_capture_on_commit_callbacks, ("more.zip", archive))
    assert job["result"]["created"] == 2 and job["result"]["skipped_existing_ids"] == ["IMG_0042.jpg"]
    names = set(Item.objects.filter(project=images).values_list("external_id", flat=True))
    assert names == {"IMG_0042.jpg", "IMG_0042 (2).jpg", "line-b/IMG_0042.jpg"}
    third = zip_of({"IMG_0042.jpg": png(color=(4, 4, 4))})
    job_upload(client, images, django_capture_on_commit_callbacks, ("again.zip", third))
    assert Item.objects.filter(project=images, external_id="IMG_0042 (3).jpg").exists()


def test_zip_with_sidecar_keeps_good_entries_and_lists_corrupt_ones(
    images, staff, media_root, django_capture_on_commit_callbacks
):
    photo = jpeg(np.full((32, 32, 3), 100, dtype=np.uint8))
    archive = zip_of(
        {
            "a.png": png(color=(200, 10, 10)),
            "b.jpg": b"not really a jpeg",
            "c.jpg": photo[: len(photo) // 2],
            "d.png": png(color=(1, 2, 3)),
            "metadata.csv": b"file,factory,external_id\na.png,Shenzhen,img-a\n",
        }
    )
    job = job_upload(client_for(staff), images, django_capture_on_commit_callbacks, ("batch.zip", archive))
    result = job["result"]
    assert result["created"] == 2 and result["rejected_count"] == 2
    assert {r["file"] for r in result["rejected"]} == {"b.jpg", "c.jpg"}
    assert "corrupt or truncated" in next(r["reason"] for r in result["rejected"] if r["file"] == "c.jpg")
    item = Item.objects.get(project=images, external_id="img-a")
    assert item.metadata == {"factory": "Shenzhen"}


def test_a_metadata_csv_next_to_loose_files_becomes_their_slices(
    images, staff, media_root, django_capture_on_commit_callbacks
):
    job = job_upload(
        client_for(staff),
        images,
        django_capture_on_commit_callbacks,
        ("one.png", png(color=(10, 200, 10))),
        ("two.png", png(color=(10, 10, 200))),
        ("slices.csv", b"file,camera,external_id\none.png,c1,first\ntwo.png,c2,\n"),
    )
    assert job["result"]["created"] == 2
    assert Item.objects.get(external_id="first").metadata == {"camera": "c1"}
    assert Item.objects.get(original_filename="two.png").metadata == {"camera": "c2"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("evil.zip", zip_of({"../../etc/evil.png": png()}), "path with '..'"),
        ("abs.zip", zip_of({"/tmp/evil.png": png()}), "absolute path"),
        ("link.zip", zip_of({"a.png": png()}, links=("l.png",)), "symbolic link"),
        ("broken.zip", b"PK\x03\x04 broken", "not a readable zip"),
        ("page.jpg", b"<html><script>alert(1)</script></html>", "not an image"),
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "not an image"),
        ("clip.png", clip(), "audio file in an image project"),
    ],
)
def test_unsafe_or_fake_media_uploads_are_400_and_nothing_is_stored(
    images, staff, media_root, name, content, message
):
    response = upload(client_for(staff), images, ("fine.png", png()), (name, content))
    assert response.status_code == 400
    assert message in json.dumps(response.json())
    assert not stored_uploads(media_root) and not Job.objects.exists()
    assert not any(media_root.rglob("evil.png"))


def test_pixel_flood_in_a_job_is_rejected_with_its_reason(
    images, staff, media_root, django_capture_on_commit_callbacks
):
    flood = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(flood, "PNG")
    job = job_upload(
        client_for(staff), images, django_capture_on_commit_callbacks, ("flood.png", flood.getvalue())
    )
    assert job["result"]["created"] == 0 and "pixel" in job["result"]["rejected"][0]["reason"]


def test_audio_import_stores_figures_and_waveform(staff, media_root, django_capture_on_commit_callbacks):
    speech = ProjectFactory(created_by=staff, data_type="audio", label_kind="transcription", classes=[])
    job = job_upload(
        client_for(staff), speech, django_capture_on_commit_callbacks, ("clip.wav", clip(lead=1.0, body=1.0))
    )
    assert job["result"]["created"] == 1
    item = Item.objects.get(project=speech)
    assert item.quality["leading_silence"] == pytest.approx(1.0, abs=0.05)
    assert item.media.name.endswith(".wav") and item.waveform.name.endswith(".json")


def test_media_and_json_into_the_wrong_project_are_400(records, images, staff):
    assert upload(client_for(staff), records, ("x.png", png())).status_code == 400
    response = client_for(staff).post(
        items_url(images), [{"external_id": "a", "data": {"x": 1}}], format="json"
    )
    assert response.status_code == 400


def test_media_is_served_to_members_only_with_safe_headers(
    images, staff, media_root, django_capture_on_commit_callbacks, client
):
    job_upload(client_for(staff), images, django_capture_on_commit_callbacks, ("a.png", png()))
    item = Item.objects.get(project=images)
    client.force_login(staff)
    response = client.get(f"/items/{item.id}/media/media/")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(UserFactory())
    assert client.get(f"/items/{item.id}/media/media/").status_code == 404
