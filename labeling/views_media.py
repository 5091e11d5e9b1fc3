"""Item media served by the app with safe headers, to project members only.

Never rendered inline as HTML or SVG from our origin: the content type comes from the stored
file's extension among a short allow-list, `nosniff` is set, and anything else is a download.
"""

import mimetypes
from pathlib import PurePosixPath

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from labeling.models import Item, ProjectMembership

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
    response = FileResponse(field.open("rb"), content_type=content_type or "application/octet-stream")
    if content_type is None:
        guessed = mimetypes.guess_type(field.name)[0] or "file"
        response["Content-Disposition"] = f'attachment; filename="item-{item.id}{suffix}"; type="{guessed}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response
