"""What no database column can hold, said once for every way text and numbers come in."""

import json
import re
from typing import Any, NoReturn

#: the largest integer PostgreSQL's bigint and SQLite's INTEGER hold.
INT_LIMIT = 2**63 - 1
_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")


def unsafe_text_reason(text: str) -> str | None:
    """Why a text cannot be stored (a NUL character, a lone UTF-16 surrogate), or None."""
    found = _UNSAFE_TEXT.search(text)
    if found is None:
        return None
    return "a NUL character" if found.group() == "\x00" else "a lone UTF-16 surrogate (invalid Unicode)"


MAX_JSON_DEPTH = 32
# A NUL escaped in JSON text: \u0000 preceded by an even number of backslashes.
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


class UnsafeInput(ValueError):
    """JSON or text that cannot be stored; the message says why."""


def _parse_int(literal: str) -> int:
    number = int(literal)
    if not -INT_LIMIT <= number <= INT_LIMIT:
        raise UnsafeInput(f"the number {literal[:30]}… is beyond 64-bit integers")
    return number


def _refuse_constant(name: str) -> NoReturn:
    raise UnsafeInput(f"{name} is not a number Concord can store")


def _check_depth(data: dict[str, Any] | list[Any]) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise UnsafeInput(f"JSON is nested more than {MAX_JSON_DEPTH} levels deep")
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def json_loads_checked(text: str | bytes) -> Any:
    """JSON text → data, refusing with UnsafeInput (a ValueError saying why) what cannot be
    stored: nesting deeper than MAX_JSON_DEPTH (100,000 levels raised RecursionError), NUL
    characters or lone surrogates in keys and texts, integers beyond 64 bits, NaN/Infinity."""
    try:
        data = json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise UnsafeInput(f"JSON is nested more than {MAX_JSON_DEPTH} levels deep") from exc
    if not isinstance(data, dict | list | str):
        return data
    if not isinstance(data, str):
        _check_depth(data)
    # Keys and texts in one pass at C speed: re-encoded, a NUL can only be an escape, and a
    # lone surrogate makes the UTF-8 encoding fail.
    dumped = json.dumps(data, ensure_ascii=False)
    if _NUL_ESCAPE.search(dumped):
        raise UnsafeInput("a text contains NUL characters, which cannot be stored")
    try:
        dumped.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnsafeInput("a text contains lone UTF-16 surrogates (invalid Unicode)") from exc
    return data
