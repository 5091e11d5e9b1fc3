"""A failed zip import stores nothing: no items, no media files, and the job says why."""

import io
import zipfile

import pytest

from labeling.models import Item
from tests.factories import ProjectFactory
from tests.helpers import client_for
from tests.labeling.api.uploads import job_upload, stored_uploads
from tests.labeling.imports.samples import png

pytestmark = pytest.mark.django_db


@pytest.fixture
def images(staff):
    return ProjectFactory(created_by=staff, data_type="image", classes=["dent", "none"])


def _zip_with_a_lying_entry(good: int = 12, bad_index: int | None = 11) -> bytes:
    """``good`` distinct PNGs, and one more at ``bad_index`` whose stored bytes no longer match the
    CRC and size its header declares (the upfront checks read only the headers)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for i in range(good + 1):
            archive.writestr(f"img{i:02d}.png", png(color=(i * 10, 5, 5)))
    raw = bytearray(out.getvalue())
    if bad_index is None:
        return bytes(raw)
    info = zipfile.ZipFile(io.BytesIO(bytes(raw))).getinfo(f"img{bad_index:02d}.png")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + 100 : start + 110] = b"\x00" * 10  # the header still says size and CRC of the original
    return bytes(raw)


def _media_files(root) -> list:
    return [p for p in root.rglob("*") if p.is_file() and "imports" not in p.parts]


def test_a_zip_with_a_corrupt_entry_stores_nothing_and_the_job_says_which(
    images, staff, media_root, django_capture_on_commit_callbacks
):
    archive = _zip_with_a_lying_entry()
    job = job_upload(client_for(staff), images, django_capture_on_commit_callbacks, ("photos.zip", archive))
    assert job["status"] == "failed"
    assert "photos.zip: the entry 'img11.png' is corrupt" in job["error"]
    assert "nothing was imported" in job["error"]
    assert not Item.objects.filter(project=images).exists()
    assert not _media_files(media_root) and not stored_uploads(media_root)


def test_a_failure_after_some_batches_removes_what_the_job_stored(
    images, staff, media_root, django_capture_on_commit_callbacks, monkeypatch
):
    from labeling.imports import media
    from labeling.services.items import media_batch

    real, calls = media.process_media, []

    def fails_on_the_twelfth(content):
        calls.append(1)
        if len(calls) == 12:
            raise RuntimeError("disk full")
        return real(content)

    monkeypatch.setattr(media_batch, "process_media", fails_on_the_twelfth)
    archive = _zip_with_a_lying_entry(good=14, bad_index=None)
    upload = ("photos.zip", archive)
    job = job_upload(client_for(staff), images, django_capture_on_commit_callbacks, upload)
    assert len(calls) == 12  # ten items were written in the first batch before the failure
    assert job["status"] == "failed" and "disk full" in job["error"]
    assert "nothing was imported" in job["error"]
    assert not Item.objects.filter(project=images).exists() and not _media_files(media_root)
    again = job_upload(client_for(staff), images, django_capture_on_commit_callbacks, upload)
    assert again["status"] == "succeeded" and again["result"]["created"] == 15  # (monkeypatch still set)
