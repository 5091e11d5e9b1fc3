"""Request parsers that refuse what the database or Python cannot hold, before any view runs.

Every API body goes through these (settings ``DEFAULT_PARSER_CLASSES``; views naming their own
parsers import them from here, and a test walks the URLconf to prove it). A JSON body is
refused with a 400 when :func:`core.text.json_loads_checked` refuses it: nested deeper than
32 levels (100,000 levels used to raise RecursionError, a 500), a NUL character or a lone UTF-16
surrogate in any key or text (PostgreSQL stores neither), an integer beyond 64 bits (no column
or id holds one), NaN or Infinity. Multipart and form fields get the same text check.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles

if TYPE_CHECKING:
    from django.http.request import _ImmutableQueryDict

from core.text import UnsafeInput, json_loads_checked, unsafe_text_reason


class JSONParser(parsers.JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        # DRF's own helper (missing from its stubs): the request's charset, else DEFAULT_CHARSET.
        encoding: str = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError as exc:
            raise ParseError(f"The body is not valid {encoding}.") from exc
        try:
            return json_loads_checked(text)
        except UnsafeInput as exc:
            raise ParseError(f"The body cannot be stored: {exc}.") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc


def _check_fields(data: QueryDict) -> None:
    for key, values in data.lists():
        for text in [key, *values]:
            if isinstance(text, str) and (reason := unsafe_text_reason(text)):
                raise ParseError(f"The field {key[:40]!r} contains {reason}.")


class MultiPartParser(parsers.MultiPartParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> DataAndFiles[_ImmutableQueryDict, MultiValueDict[str, UploadedFile[bytes]]]:
        parsed = super().parse(stream, media_type, parser_context)
        _check_fields(parsed.data)
        return parsed


class FormParser(parsers.FormParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> _ImmutableQueryDict:
        data = super().parse(stream, media_type, parser_context)
        _check_fields(data)
        return data
