import pandas as pd
import pytest

from consistency.metrics.transcripts.agreement import normalize, transcript_agreement
from consistency.metrics.transcripts.consensus import medoid
from consistency.metrics.transcripts.rules import compile_rules


def _frame(rows):
    return pd.DataFrame(rows, columns=["item", "labeler", "value"])


def test_normalization_and_rules():
    rules = compile_rules([{"pattern": r"\bu+m+\b[.,]*", "replacement": "um", "regex": True}])
    assert normalize("Umm... nearest  gas station", rules) == "um nearest gas station"
    assert normalize("Um, nearest gas station", rules) == "um nearest gas station"
    assert normalize("[unintelligible] station") == "[unintelligible] station"
    with pytest.raises(ValueError, match="rule 1: invalid regular expression"):
        compile_rules([{"pattern": "(", "regex": True}])


def test_agreement_rises_when_fillers_are_standardized():
    frame = _frame(
        [
            (1, "a", "Um, nearest gas station"),
            (1, "b", "Umm... nearest gas station"),
            (1, "c", "um nearest gas station"),
            (2, "a", "call mom"),
            (2, "b", "Call mom."),
            (2, "c", "call mum"),
            (3, "a", "play some jazz"),
            (3, "b", "play jazz"),
            (3, "c", "play some jazz"),
        ]
    )
    before = transcript_agreement(frame)
    after = transcript_agreement(frame, [{"pattern": r"\bu+m+\b[.,]*", "replacement": "um", "regex": True}])
    assert before["exact_match"] == pytest.approx(0.0)
    assert after["exact_match"] == pytest.approx(1 / 3)
    assert after["alpha"] > before["alpha"]
    assert 0 < after["word_similarity"] <= 1 and 0 < after["char_similarity"] <= 1
    assert after["items_measured"] == 3


def test_identical_transcripts_have_alpha_one():
    frame = _frame([(1, "a", "go home"), (1, "b", "Go home!"), (2, "a", "stop"), (2, "b", "stop")])
    assert transcript_agreement(frame)["alpha"] == pytest.approx(1.0)


def test_medoid_is_the_central_transcript():
    text, confidence = medoid(["nearest gas station", "nearest gas stations", "nearest bus station"])
    assert text == "nearest gas station" and 0 < confidence < 1


def test_single_answers_only_is_an_error():
    with pytest.raises(ValueError, match="two transcripts"):
        transcript_agreement(_frame([(1, "a", "x"), (2, "b", "y")]))
