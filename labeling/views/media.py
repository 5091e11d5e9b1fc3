"""Item media, to project members only: served by the app from the local disk, or, with a
bucket, a redirect to a short-lived presigned URL (the bytes never pass through a web worker).

Never rendered inline as HTML or SVG from our origin: the content type comes from the stored
file's extension among a short allow-list, `nosniff` is set, and anything else is a download.
A presigned URL carries the same content type and disposition in its signature.
"""

import mimetypes
import re
from pathlib import PurePosixPath

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.views.decorators.http import require_GET

from labeling.models import Item, ProjectMembership
from labeling.storage import presigned_url, uses_bucket

INLINE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".json": "application/json",
}
VARIANTS = {"media", "thumbnail", "waveform"}
# One byte range (`bytes=500-999`, `bytes=500-`, `bytes=-500`): what <audio> asks for when a
# labeler seeks. Django has no Range support (ticket #22479) and the packages that add it are
# unmaintained, so these few lines are ours; several ranges at once are answered in full, as
# RFC 9110 allows.
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 64 * 1024


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte asked for, None for the whole file; ValueError when unsatisfiable."""
    match = _RANGE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0:
            raise ValueError("empty suffix range")
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise ValueError("range outside the file")
    return start, end


def _file_part(file, start: int, end: int):
    with file:
        file.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = file.read(min(_CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def _redirect_to_bucket(name: str, item_id: int, suffix: str, content_type: str | None) -> HttpResponse:
    """302 to a presigned URL; signing is local (no request to the bucket), so this is fast
    and works while the bucket is down (the browser's fetch then fails and the page says so)."""
    url = presigned_url(
        name,
        content_type=content_type or "application/octet-stream",
        attachment=None if content_type else f"item-{item_id}{suffix}",
    )
    response = HttpResponseRedirect(url)
    # The URL expires: never let a cache hand out a dead one.
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@login_required
def item_media(request, item_id: int, variant: str):
    if variant not in VARIANTS:
        raise Http404("Unknown media variant.")
    item = Item.objects.filter(pk=item_id).only("id", "project_id", variant).first()
    if (
        item is None
        or not ProjectMembership.objects.filter(project_id=item.project_id, user=request.user).exists()
    ):
        raise Http404("Not found.")
    field = getattr(item, variant)
    if not field:
        raise Http404("This item has no such media.")
    suffix = PurePosixPath(field.name).suffix.lower()
    content_type = INLINE_TYPES.get(suffix)
    if uses_bucket():
        return _redirect_to_bucket(field.name, item.id, suffix, content_type)
    size = field.size
    try:
        wanted = _byte_range(request.headers.get("Range", ""), size)
    except ValueError:
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    response: StreamingHttpResponse  # a FileResponse is one too
    if wanted is None:
        response = FileResponse(field.open("rb"), content_type=content_type or "application/octet-stream")
    else:
        start, end = wanted
        response = StreamingHttpResponse(
            _file_part(field.open("rb"), start, end),
            status=206,
            content_type=content_type or "application/octet-stream",
        )
        response["Content-Length"] = str(end - start + 1)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    if content_type is None:
        guessed = mimetypes.guess_type(field.name)[0] or "file"
        response["Content-Disposition"] = f'attachment; filename="item-{item.id}{suffix}"; type="{guessed}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
