"""Request parsers that refuse what the database or Python cannot hold, before any view runs.

Every API body goes through these (settings ``DEFAULT_PARSER_CLASSES``; views naming their own
parsers import them from here, and a test walks the URLconf to prove it). A JSON body is
refused with a 400 when :func:`core.text.json_loads_checked` refuses it: nested deeper than
32 levels (100,000 levels used to raise RecursionError, a 500), a NUL character or a lone UTF-16
surrogate in any key or text (PostgreSQL stores neither), an integer beyond 64 bits (no column
or id holds one), NaN or Infinity. Multipart and form fields get the same text check.
"""

import codecs

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from core.text import UnsafeInput, json_loads_checked, unsafe_text_reason


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
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


def _check_fields(data) -> None:
    for key, values in data.lists():
        for text in [key, *values]:
            if isinstance(text, str) and (reason := unsafe_text_reason(text)):
                raise ParseError(f"The field {key[:40]!r} contains {reason}.")


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        _check_fields(parsed.data)
        return parsed


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        _check_fields(data)
        return data
