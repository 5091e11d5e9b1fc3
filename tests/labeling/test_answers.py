import pytest

from core.errors import Invalid
from labeling.answers import MAX_BOXES, answer_validate

CLASSES = {"deep scratch", "shallow scratch", "dent", "none"}


def test_class_answer_must_be_in_the_schema():
    assert answer_validate(label_kind="classes", class_names=CLASSES, value="dent") == "dent"
    with pytest.raises(Invalid, match="Unknown class 'scratch'"):
        answer_validate(label_kind="classes", class_names=CLASSES, value="scratch")
    with pytest.raises(Invalid):
        answer_validate(label_kind="classes", class_names=CLASSES, value=["dent"])


def test_integer_class_names_are_accepted_as_text():
    assert answer_validate(label_kind="classes", class_names={"0", "1"}, value=1) == "1"
    with pytest.raises(Invalid):
        answer_validate(label_kind="classes", class_names={"0", "1"}, value=True)


def test_multi_classes_are_sorted_and_unique():
    value = answer_validate(label_kind="multi_classes", class_names=CLASSES, value=["none", "dent"])
    assert value == ["dent", "none"]
    with pytest.raises(Invalid, match="twice"):
        answer_validate(label_kind="multi_classes", class_names=CLASSES, value=["dent", "dent"])


def test_boxes_are_checked_one_by_one():
    box = {"x": 1, "y": 2, "w": 30, "h": 40, "class": "dent"}
    assert answer_validate(label_kind="boxes", class_names=CLASSES, value=[box]) == [
        {"x": 1.0, "y": 2.0, "w": 30.0, "h": 40.0, "class": "dent"}
    ]
    for bad in [
        {**box, "w": 0},
        {**box, "x": float("nan")},
        {**box, "class": "x"},
        {**box, "extra": 1},
        "box",
    ]:
        with pytest.raises(Invalid, match="Box 1"):
            answer_validate(label_kind="boxes", class_names=CLASSES, value=[bad])
    with pytest.raises(Invalid, match="At most"):
        answer_validate(label_kind="boxes", class_names=CLASSES, value=[box] * (MAX_BOXES + 1))


def test_transcripts_collapse_whitespace():
    assert answer_validate(
        label_kind="transcription", class_names=set(), value="  Um,  nearest\tgas station "
    ) == ("Um, nearest gas station")
    with pytest.raises(Invalid):
        answer_validate(label_kind="transcription", class_names=set(), value=42)
