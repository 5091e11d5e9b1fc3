"""What a valid answer looks like for each label kind (shared by labeling and imports).

Answers are stored as JSON: a class name (classes, rating), a list of names
(multi_classes), a list of boxes ``{x, y, w, h, class}`` in pixels of the original
image (boxes), or a string (transcription).
"""

import json
import math
from collections.abc import Collection

from django.http import QueryDict

from core.errors import Invalid
from labeling.models import LabelKind

MAX_BOXES = 500
MAX_TRANSCRIPT_CHARS = 10_000


def _invalid(message: str) -> Invalid:
    return Invalid(message, fields={"value": [message]})


def _class_name(value, class_names: Collection[str]) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _invalid(f"Expected a class name, got {type(value).__name__}.")
    name = str(value)
    if name not in class_names:
        raise _invalid(f"Unknown class {name!r}; the schema has: {', '.join(sorted(class_names))}.")
    return name


def _number(box: dict, key: str, index: int) -> float:
    value = box.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _invalid(f"Box {index + 1}: {key} must be a finite number.")
    return float(value)


def _box(box, index: int, class_names: Collection[str]) -> dict:
    if not isinstance(box, dict):
        raise _invalid(f"Box {index + 1} must be an object with x, y, w, h and class.")
    unknown = set(box) - {"x", "y", "w", "h", "class"}
    if unknown:
        raise _invalid(f"Box {index + 1}: unknown keys {', '.join(sorted(unknown))}.")
    x, y, w, h = (_number(box, key, index) for key in ("x", "y", "w", "h"))
    if x < 0 or y < 0 or w <= 0 or h <= 0:
        raise _invalid(f"Box {index + 1}: x and y must be ≥ 0, w and h > 0.")
    try:
        label = _class_name(box.get("class"), class_names)
    except Invalid as exc:
        raise _invalid(f"Box {index + 1}: {exc.message}") from exc
    return {"x": x, "y": y, "w": w, "h": h, "class": label}


def answer_validate(*, label_kind: str, class_names: Collection[str], value):
    """Return the normalized answer or raise ``Invalid`` saying what is wrong."""
    kind = LabelKind(label_kind)
    if kind in (LabelKind.CLASSES, LabelKind.RATING):
        return _class_name(value, class_names)
    if kind == LabelKind.MULTI_CLASSES:
        if not isinstance(value, list):
            raise _invalid("Expected a list of class names.")
        names = [_class_name(v, class_names) for v in value]
        if len(set(names)) != len(names):
            raise _invalid("A class appears twice in the list.")
        return sorted(names)
    if kind == LabelKind.BOXES:
        if not isinstance(value, list):
            raise _invalid("Expected a list of boxes {x, y, w, h, class}.")
        if len(value) > MAX_BOXES:
            raise _invalid(f"At most {MAX_BOXES} boxes per item.")
        return [_box(box, i, class_names) for i, box in enumerate(value)]
    if not isinstance(value, str):
        raise _invalid("Expected the transcript as a string.")
    text = " ".join(value.split())
    if len(text) > MAX_TRANSCRIPT_CHARS:
        raise _invalid(f"A transcript is at most {MAX_TRANSCRIPT_CHARS} characters.")
    return text


def answer_choice_mode(label_kind: str) -> str:
    """How the workspace and the review page let a person answer: one class, several, or boxes
    (transcripts have their own text field; "single" covers classes and ratings)."""
    return {LabelKind.MULTI_CLASSES: "multi", LabelKind.BOXES: "box"}.get(LabelKind(label_kind), "single")


def answer_from_form(*, label_kind: str, post: QueryDict) -> object:
    """The answer a page form posted, before validation: a list of classes (multi), boxes
    (JSON in one field), or one string (a class, a rating or a transcript); None when empty."""
    kind = LabelKind(label_kind)
    if kind == LabelKind.MULTI_CLASSES:
        return [v for v in post.getlist("value") if v]
    raw = post.get("value", "")
    if kind == LabelKind.BOXES:
        try:
            return json.loads(raw or "[]")
        except json.JSONDecodeError as exc:
            raise Invalid("The boxes could not be read.", fields={"value": [str(exc)]}) from exc
    return raw or None
