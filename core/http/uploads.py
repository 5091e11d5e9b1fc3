"""A cap on multipart uploads that holds before the body is read, not after.

Django streams file uploads to memory or a temporary file whatever their size and only then
hands them to the view; checking ``upload.size`` in the view would let a client fill the disk
first. ``LimitedUploadHandler`` (first in ``FILE_UPLOAD_HANDLERS``) refuses a body whose
``Content-Length`` is over ``CONCORD_MAX_UPLOAD_BYTES`` without reading it, and stops reading a
body without a length as soon as it passes the limit. It marks the request; the import APIs
then answer 413 (``upload_too_large``).
"""

from __future__ import annotations

from typing import IO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework.request import Request

from core.errors import ApplicationError

MARK = "concord_upload_too_large"


def upload_limit() -> int:
    return settings.CONCORD_MAX_UPLOAD_BYTES


def upload_too_large(request: HttpRequest | Request) -> bool:
    """True when the handler refused this request's body (``request`` may be DRF's or Django's)."""
    django_request = getattr(request, "_request", request)
    return bool(getattr(django_request, MARK, False))


def content_length(request: HttpRequest | Request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def upload_guard(request: HttpRequest | Request) -> None:
    """413 when the body is over the limit: by its Content-Length before anything is read, or
    as the handler found while reading. Call it before and after touching ``request.FILES``."""
    if content_length(request) > upload_limit() or upload_too_large(request):
        raise ApplicationError(
            f"The upload is over the {upload_limit() / 1024**2:,.0f} MB limit; split it into smaller files.",
            code="too_large",
        ).with_status(413)


class LimitedUploadHandler(FileUploadHandler):
    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.received = 0

    def _refuse(self) -> None:
        if self.request is not None:
            setattr(self.request, MARK, True)

    def handle_raw_input(
        self,
        input_data: IO[bytes],
        META: dict[str, str],
        content_length: int,
        boundary: str,
        encoding: str | None = None,
    ) -> tuple[QueryDict, MultiValueDict[str, UploadedFile[bytes]]] | None:
        if content_length and content_length > upload_limit():
            self._refuse()
            return QueryDict(encoding=encoding), MultiValueDict()  # nothing is read
        return None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > upload_limit():
            self._refuse()
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile[bytes] | None:
        return None
