"""Label Studio's JSON export mapped onto Concord's items, labelers and answers.

An export is a list of tasks ``{"id", "data", "meta"?, "annotations": [...]}``; each annotation
has ``completed_by`` (a user id, or an object with ``email``) and a ``result`` list. Supported
result types: ``choices``, ``rectanglelabels`` (percent coordinates → pixels of the original
image, from ``original_width`` / ``original_height``), ``textarea`` and ``rating``. Other types
(relations, spans, key points…) are counted in the report as ignored, never silently.
"""

import json

SUPPORTED_TYPES = {"choices", "rectanglelabels", "textarea", "rating"}


class NotAnAnswer(ValueError):
    """This annotation cannot become an answer of the project's kind (the reason says why)."""


def is_label_studio_export(items: list) -> bool:
    first = next((t for t in items if isinstance(t, dict)), None)
    return first is not None and "id" in first and ("annotations" in first or "data" in first)


def labeler_name(annotation: dict) -> str:
    """``ls-<email>`` or ``ls-<user id>``: prefixed so imported people never take over a local account."""
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("username") or who.get("id")
    if who in (None, ""):
        created = str(annotation.get("created_username") or "").split(",")[0].strip()
        who = created or None
    return f"ls-{who}" if who not in (None, "") else ""


def _percent(value: dict, key: str) -> float:
    number = value.get(key)
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise NotAnAnswer(f"a rectangle has no numeric {key}")
    return float(number)


def _size(result: dict, key: str) -> float:
    number = result.get(key)
    if isinstance(number, bool) or not isinstance(number, int | float) or not 0 < number < 1e9:
        raise NotAnAnswer(
            f"a rectangle needs {key} as a positive number of pixels (got {json.dumps(number)[:20]})"
        )
    return float(number)


def _texts(value: dict, key: str) -> list[str]:
    items = value.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, str | int | float) for i in items):
        raise NotAnAnswer(f"'{key}' must be a list of texts")
    return [str(i) for i in items]


def answer_from_results(results, label_kind: str) -> tuple[object, bool, dict[str, int]]:
    """(value, empty, ignored types) of one annotation's ``result`` list for a label kind."""
    choices: list[str] = []
    boxes: list[dict] = []
    texts: list[str] = []
    ignored: dict[str, int] = {}
    if not isinstance(results, list):
        raise NotAnAnswer("'result' must be a list")
    for result in results:
        if not isinstance(result, dict):
            raise NotAnAnswer("each entry of 'result' must be an object")
        kind = result.get("type")
        value = result.get("value") or {}
        if not isinstance(value, dict):
            raise NotAnAnswer("each result's 'value' must be an object")
        if kind not in SUPPORTED_TYPES:
            ignored[str(kind)] = ignored.get(str(kind), 0) + 1
        elif kind == "choices":
            choices += _texts(value, "choices")
        elif kind == "rating":
            choices.append(str(value.get("rating")))
        elif kind == "textarea":
            texts += _texts(value, "text")
        else:
            width, height = _size(result, "original_width"), _size(result, "original_height")
            for label in _texts(value, "rectanglelabels"):
                boxes.append(
                    {
                        "x": round(_percent(value, "x") * width / 100, 2),
                        "y": round(_percent(value, "y") * height / 100, 2),
                        "w": round(_percent(value, "width") * width / 100, 2),
                        "h": round(_percent(value, "height") * height / 100, 2),
                        "class": label,
                    }
                )
    if label_kind == "boxes":
        return boxes, False, ignored  # no boxes is an answer: "nothing to mark"
    if label_kind == "transcription":
        return (" ".join(texts), False, ignored) if texts else (None, True, ignored)
    if label_kind == "multi_classes":
        return (choices, False, ignored) if choices else (None, True, ignored)
    if len(choices) > 1:
        raise NotAnAnswer(f"{len(choices)} choices ({', '.join(choices)}) for a single-class project")
    return (choices[0], False, ignored) if choices else (None, True, ignored)
