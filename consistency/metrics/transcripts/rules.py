"""Transcript standardization rules, matched in linear time.

A rule is ``{"pattern", "replacement", "regex", "case_sensitive"}`` (or a tuple
``(pattern, replacement, is_regex)``). Rules ignore case unless ``case_sensitive`` is true, so
``Umm`` → ``Um`` also changes "umm". Plain rules replace the text as written; regex rules use
RE2 (``google-re2``), whose matching time is linear in the text: a manager's pattern such as
``(a|a)*$`` cannot make a labeler's transcript take exponential time, as it did with Python's
backtracking ``re``. What RE2 cannot run in linear time (backreferences ``\\1`` in the pattern,
lookaround ``(?=…)``) does not compile, and such a rule is refused with its number.

Replacements of regex rules use Python's template syntax (``\\1``, ``\\g<name>``, ``\\n``);
a group the pattern does not have, or an unknown escape, is refused when the rule compiles,
never when it meets a transcript.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import re2

MAX_RULES = 200
#: RE2's memory for one compiled pattern; a bigger program (e.g. ``(a{1000}){1000}``) is refused.
MAX_PROGRAM_BYTES = 8 << 20

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "b": "\b", "\\": "\\"}
_TEMPLATE_TOKEN = re.compile(r"\\(?:g<([^>]*)>|([1-9][0-9]?)|(.)|$)", re.DOTALL)


@dataclass(frozen=True)
class CompiledRule:
    """One rule, ready to apply: ``apply(text) -> text``."""

    pattern: str
    replacement: str
    apply: Callable[[str], str]
    #: a plain case-sensitive rule (``str.replace``), which pandas can run vectorized.
    literal: bool = False


#: A rule as a manager writes it (a dict or a ``(pattern, replacement, is_regex)`` tuple), or
#: already compiled.
Rule = CompiledRule | Mapping[str, Any] | tuple[Any, ...] | list[Any]


def _template(replacement: str, regex: Any, index: int) -> list[str | int]:
    """Python's replacement template as literal pieces and group numbers, checked against the
    pattern's groups (ValueError names the rule)."""
    pieces: list[str | int] = []
    end = 0
    for token in _TEMPLATE_TOKEN.finditer(replacement):
        pieces.append(replacement[end : token.start()])
        end = token.end()
        name, number, char = token.groups()
        if name is not None or number is not None:
            ref = name if name is not None else number
            group = int(ref) if ref.isdigit() else regex.groupindex.get(ref)
            if group is None or group > regex.groups:
                raise ValueError(
                    f"rule {index}: the replacement refers to group {ref!r}, which the pattern lacks"
                )
            pieces.append(group)
        elif char is None:
            raise ValueError(f"rule {index}: the replacement ends with a lone backslash")
        elif char in _ESCAPES:
            pieces.append(_ESCAPES[char])
        elif char.isascii() and char.isalnum():
            raise ValueError(f"rule {index}: unknown escape \\{char} in the replacement")
        else:
            pieces.append("\\" + char)
    pieces.append(replacement[end:])
    return [p for p in pieces if p != ""]


def _options(*, case_sensitive: bool, literal: bool) -> Any:
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.literal = literal
    options.log_errors = False
    options.max_mem = MAX_PROGRAM_BYTES
    return options


def _compile_one(
    index: int, pattern: str, replacement: str, is_regex: bool, case_sensitive: bool
) -> CompiledRule:
    if not is_regex and case_sensitive:
        return CompiledRule(pattern, replacement, lambda text: text.replace(pattern, replacement), True)
    try:
        regex = re2.compile(pattern, _options(case_sensitive=case_sensitive, literal=not is_regex))
    except (re2.error, UnicodeError) as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(
            f"rule {index}: invalid regular expression ({reason}); patterns run on RE2 in linear "
            "time, without backreferences or lookaround"
        ) from exc
    if not is_regex:
        return CompiledRule(pattern, replacement, lambda text: regex.sub(lambda _m: replacement, text))
    pieces = _template(replacement, regex, index)

    def expand(match: Any) -> str:
        return "".join(p if isinstance(p, str) else (match.group(p) or "") for p in pieces)

    return CompiledRule(pattern, replacement, lambda text: regex.sub(expand, text))


def compile_rules(rules: Sequence[Rule]) -> list[CompiledRule]:
    """Compile standardization rules, keeping their order.

    Parameters
    ----------
    rules : dicts ``{"pattern": "Umm+", "replacement": "um", "regex": True, "case_sensitive":
        False}`` or tuples ``(pattern, replacement, is_regex)`` (case-insensitive).

    Raises
    ------
    ValueError
        Too many rules, an empty pattern, a pattern RE2 cannot compile, or a replacement that
        names a missing group (the message names the rule).
    """
    if len(rules) > MAX_RULES:
        raise ValueError(f"at most {MAX_RULES} rules")
    compiled: list[CompiledRule] = []
    for index, rule in enumerate(rules, start=1):
        if isinstance(rule, CompiledRule):
            compiled.append(rule)
            continue
        if isinstance(rule, dict):
            pattern, replacement = rule.get("pattern", ""), rule.get("replacement", "")
            is_regex, case_sensitive = rule.get("regex"), rule.get("case_sensitive")
        elif isinstance(rule, tuple | list) and len(rule) == 3:
            (pattern, replacement, is_regex), case_sensitive = rule, False
        else:
            raise ValueError(
                f"rule {index}: expected {{pattern, replacement, regex}} or (pattern, replacement, is_regex)"
            )
        pattern, replacement = str(pattern or ""), str(replacement or "")
        if not pattern:
            raise ValueError(f"rule {index}: empty pattern")
        compiled.append(_compile_one(index, pattern, replacement, bool(is_regex), bool(case_sensitive)))
    return compiled
