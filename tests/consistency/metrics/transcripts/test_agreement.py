"""Transcript agreement on hand-made cases: normalization, 1 − WER / 1 − CER via jiwer, alpha."""

import jiwer
import numpy as np
import pandas as pd
import pytest

from consistency.metrics.stats.alpha import alpha_from_distance_matrix
from consistency.metrics.transcripts.agreement import (
    normalize,
    normalize_many,
    transcript_agreement,
    transcript_alpha,
)
from consistency.metrics.transcripts.consensus import medoid
from consistency.metrics.transcripts.rules import compile_rules


def frame(rows):
    return pd.DataFrame(rows, columns=["item", "labeler", "value"])


def test_normalization_steps_and_ordered_rules():
    rules = [(r"\bu+m+\b[.,]*", "um", True), ("gas station", "petrol station", False)]
    assert normalize("Umm... nearest  gas station!", rules) == "um nearest petrol station"
    assert normalize("[unintelligible] Station.") == "[unintelligible] station"
    assert normalize("A,b", lowercase=False) == "A b"
    assert normalize("a,b", punctuation=False) == "a,b"
    assert normalize(" a  b ", whitespace=False) == " a  b "
    # rules run in order: the second sees the first one's output
    assert normalize("colour", [("colour", "color", False), ("color", "hue", False)]) == "hue"


def test_vectorized_normalization_equals_the_single_one():
    texts = ["Umm, call MOM!", "  play   jazz ", "[unintelligible] um.", "", "Ça va? Oui."]
    rules = compile_rules([{"pattern": r"\bu+m+\b", "replacement": "um", "regex": True}])
    assert normalize_many(texts, rules).tolist() == [normalize(t, rules) for t in texts]
    assert normalize_many(pd.Series(["A", None]), rules).tolist() == ["a", ""]


def test_rules_are_checked():
    with pytest.raises(ValueError, match="rule 1: invalid regular expression"):
        compile_rules([("(", "", True)])
    with pytest.raises(ValueError, match="rule 2: empty pattern"):
        compile_rules([("a", "b", False), {"pattern": "", "replacement": "x"}])
    with pytest.raises(ValueError, match="rule 1: expected"):
        compile_rules(["just a string"])


def test_pairwise_word_and_character_similarity():
    # "a b c" vs "a c": 1 word edit; WER 1/3 one way, 1/2 the other: 1 − WER = 1 − 5/12.
    # "abc" vs "abd": 1 character edit out of 3 both ways.
    result = transcript_agreement(
        frame([(1, "x", "a b c"), (1, "y", "a c"), (2, "x", "abc"), (2, "y", "abd")])
    )
    per_item = result["per_item"].set_index("item")
    assert per_item.loc[1, "agreement"] == pytest.approx(7 / 12)
    assert per_item.loc[2, "agreement"] == pytest.approx(0.0)  # one word substituted out of one
    assert result["word_similarity"] == pytest.approx((7 / 12 + 0) / 2)
    cer_item1 = 1 - 2 * (1 / 5 + 1 / 3) / 2  # "a b c" → "a c": 2 character edits
    assert result["char_similarity"] == pytest.approx((cer_item1 + 2 / 3) / 2)


def test_empty_transcripts():
    result = transcript_agreement(frame([(1, "x", ""), (1, "y", None), (2, "x", ""), (2, "y", "hello")]))
    assert result["per_item"]["agreement"].tolist() == [1.0, 0.0]
    assert result["exact_match"] == 0.5 and result["pair_exact_match"] == 0.5


def test_exact_match_after_rules():
    data = frame(
        [
            (1, "a", "Um, nearest gas station"),
            (1, "b", "Umm... nearest gas station"),
            (1, "c", "um nearest gas station"),
            (2, "a", "call mom"),
            (2, "b", "Call mom."),
            (2, "c", "call mum"),
            (3, "a", "stop"),
        ]
    )
    before = transcript_agreement(data)
    after = transcript_agreement(data, [(r"\bu+m+\b", "um", True)])
    assert before["exact_match"] == 0.0 and after["exact_match"] == 0.5
    assert after["pair_exact_match"] == pytest.approx(4 / 6)
    assert after["alpha"] > before["alpha"] and after["items_measured"] == 2
    assert after["per_item"].set_index("item").loc[3, "n"] == 1


def test_alpha_uses_the_normalized_character_distance():
    # Equal-length strings: jiwer's CER is exactly δ = edits / max length.
    data = frame(
        [
            (1, "a", "abcd"),
            (1, "b", "abcd"),
            (1, "c", "abce"),
            (2, "a", "wxyz"),
            (2, "b", "wxyy"),
            (3, "a", "abcd"),
        ]
    )
    pairable = data[data["item"] != 3].reset_index(drop=True)
    texts = pairable["value"].tolist()
    d = np.array([[jiwer.cer(a, b) if a != b else 0.0 for b in texts] for a in texts])
    expected = alpha_from_distance_matrix(d, pairable["item"])
    assert transcript_alpha(data) == pytest.approx(expected)
    assert transcript_agreement(data)["alpha"] == pytest.approx(expected)


def test_edit_distances_come_from_jiwer(monkeypatch):
    calls = []
    original = jiwer.process_characters

    def spy(reference, hypothesis, **kwargs):
        calls.append(len(reference))
        return original(reference, hypothesis, **kwargs)

    monkeypatch.setattr(jiwer, "process_characters", spy)
    transcript_agreement(
        frame([(1, "a", "go home"), (1, "b", "go hom"), (2, "a", "stop"), (2, "b", "stops")])
    )
    assert calls and calls[0] == 2  # both within-item pairs in one batched call


def test_identical_transcripts_have_alpha_one():
    data = frame([(1, "a", "go home"), (1, "b", "Go home!"), (2, "a", "stop"), (2, "b", "stop")])
    assert transcript_agreement(data)["alpha"] == pytest.approx(1.0)


def test_medoid_is_the_central_transcript():
    text, confidence = medoid(["nearest gas station", "nearest gas stations", "nearest bus station"])
    assert text == "nearest gas station"
    assert confidence == pytest.approx(1 - 1 / 3)
    assert medoid([]) == (None, pytest.approx(float("nan"), nan_ok=True))
    assert medoid(["only"])[0] == "only"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(1, "a", "x"), (2, "b", "y")], "two transcripts"),
        ([(1, "a", "x"), (1, "a", "y")], "one labeler"),
        ([], "empty"),
    ],
)
def test_bad_input_says_what_is_wrong(rows, message):
    with pytest.raises(ValueError, match=message):
        transcript_agreement(frame(rows))
