"""Zip archives are checked entry by entry before anything is decompressed (no database)."""

import io
import zipfile

import pytest

from labeling.imports import archive as archive_module
from labeling.imports.archive import archive_check, media_entries, open_archive, sidecar
from labeling.imports.records import UnparseableFile
from tests.labeling.imports.samples import png, zip_of


@pytest.mark.parametrize(
    ("entries", "links", "reason"),
    [
        ({"../../etc/evil.png": b"x"}, (), "path with '..'"),
        ({"ok/../../evil.png": b"x"}, (), "path with '..'"),
        ({"/etc/evil.png": b"x"}, (), "absolute path"),
        ({"C:/evil.png": b"x"}, (), "absolute path"),
        ({"a.png": b"x"}, ("link.png",), "symbolic link"),
        ({"bomb.png": b"\0" * (11 * 1024**2)}, (), "zip bomb"),
    ],
)
def test_unsafe_archives_are_refused_whole(entries, links, reason):
    with pytest.raises(UnparseableFile, match=reason):
        archive_check(io.BytesIO(zip_of(entries, links)))


def test_entry_count_total_size_and_garbage_are_refused(monkeypatch):
    many = zip_of({f"{i}.png": b"x" for i in range(5)})
    monkeypatch.setattr(archive_module, "MAX_ENTRIES", 4)
    with pytest.raises(UnparseableFile, match="5 entries"):
        archive_check(io.BytesIO(many))
    monkeypatch.setattr(archive_module, "MAX_ENTRIES", 10_000)
    monkeypatch.setattr(archive_module, "MAX_TOTAL_BYTES", 3)
    with pytest.raises(UnparseableFile, match="unpacks to"):
        archive_check(io.BytesIO(many))
    with pytest.raises(UnparseableFile, match="not a readable zip"):
        archive_check(io.BytesIO(b"PK\x03\x04 this is not really a zip"))


def test_entries_skip_folders_hidden_files_and_the_sidecar():
    content = zip_of(
        {
            "photos/a.png": png(),
            "photos/.DS_Store": b"junk",
            "__MACOSX/photos/._a.png": b"junk",
            "metadata.csv": b"file,camera\na.png,c1\n",
        }
    )
    with zipfile.ZipFile(io.BytesIO(content), "a") as z:
        z.writestr(zipfile.ZipInfo("photos/"), b"")
    archive = open_archive(io.BytesIO(content))
    assert [name for name, _ in media_entries(archive)] == ["photos/a.png"]
    assert sidecar(archive) == b"file,camera\na.png,c1\n"
