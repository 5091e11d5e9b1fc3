"""Zip archives of media, read safely.

Every entry of the directory is checked before anything is decompressed: at most
``MAX_ENTRIES`` entries and ``MAX_TOTAL_BYTES`` uncompressed; no absolute paths, ``..``,
symbolic links or suspicious compression ratios. Entries are then read into memory one at a
time and never extracted to disk, so nothing is written outside the job's own folder of
uploads (which the job removes when it ends).
"""

import zipfile
import zlib
from collections.abc import Iterator

from labeling.imports.records import UnparseableFile

MAX_ENTRIES = 10_000
MAX_TOTAL_BYTES = 2 * 1024**3
MAX_ENTRY_BYTES = 200 * 1024**2
MAX_RATIO = 200  # uncompressed / compressed: more looks like a zip bomb
SIDECAR_NAMES = {"metadata.csv", "_metadata.csv"}


def _unsafe(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if ".." in name.replace("\\", "/").split("/"):
        return "path with '..'"
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        return "symbolic link"
    if info.file_size > MAX_ENTRY_BYTES:
        return f"larger than {MAX_ENTRY_BYTES // 1024**2} MB"
    if (
        info.compress_size
        and info.file_size / info.compress_size > MAX_RATIO
        and info.file_size > 10 * 1024**2
    ):
        return "compression ratio too high (zip bomb?)"
    return None


def open_archive(fileobj) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnparseableFile(f"not a readable zip archive ({exc})") from exc
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise UnparseableFile(f"the archive has {len(infos)} entries; at most {MAX_ENTRIES}")
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL_BYTES:
        raise UnparseableFile(f"the archive unpacks to {total:,} bytes; at most {MAX_TOTAL_BYTES:,}")
    bad = [(i.filename, reason) for i in infos if (reason := _unsafe(i))]
    if bad:
        listed = "; ".join(f"{name}: {reason}" for name, reason in bad[:20])
        raise UnparseableFile(f"unsafe entries refused: {listed}")
    return archive


def archive_check(fileobj) -> None:
    """Raise ``UnparseableFile`` unless the archive is readable and every entry is safe."""
    open_archive(fileobj).close()


def archive_verify(archive: zipfile.ZipFile) -> None:
    """Read every entry once and check its CRC before anything is stored: an entry whose header
    lies about its size or content passes ``open_archive`` and fails only when read, which used
    to leave the entries before it imported. ``UnparseableFile`` names the entry."""
    for info in archive.infolist():
        if info.is_dir():
            continue
        try:
            with archive.open(info) as entry:
                while entry.read(1 << 20):
                    pass
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
            raise UnparseableFile(f"the entry {info.filename!r} is corrupt ({exc})") from exc


def media_entries(archive: zipfile.ZipFile) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each file entry except directories, hidden files and the sidecar."""
    for info in archive.infolist():
        base = info.filename.rsplit("/", 1)[-1]
        if info.is_dir() or not base or base.startswith(".") or base.lower() in SIDECAR_NAMES:
            continue
        if info.filename.startswith("__MACOSX/"):
            continue
        yield info.filename, archive.read(info)


def sidecar(archive: zipfile.ZipFile) -> bytes | None:
    for info in archive.infolist():
        if info.filename.rsplit("/", 1)[-1].lower() in SIDECAR_NAMES:
            return archive.read(info)
    return None
