"""The medoid transcript on hand-made cases.

Moved from the tests of a second medoid implementation (``consensus/transcript_medoid.py``, used
by no production code, removed in the issue-15 renovation) onto the one the runs use
(:func:`consistency.metrics.transcripts.consensus.medoid`): texts are compared after the
project's normalization, the pairwise distance is the symmetric WER clipped to 1, and a tie goes
to the earliest answer.
"""

import math

import pytest

from consistency.metrics.transcripts.agreement import normalize
from consistency.metrics.transcripts.consensus import medoid


def test_normalization_before_comparing():
    assert (
        normalize("  Don't  STOP,me-now!  [unintelligible] ok... ") == "don t stop me now [unintelligible] ok"
    )
    assert normalize("Café\u00a0NOIR") == "café noir"


def test_medoid_is_the_transcript_closest_to_the_others():
    texts = ["the cat sat", "The cat sat.", "the cat sat down", "a dog ran off"]
    text, confidence = medoid(texts)
    assert text == "the cat sat"
    # d = mean of WER both ways, at most 1; from "the cat sat": 0, (1/3 + 1/4)/2, and 4 edits to
    # "a dog ran off" → min(1, (4/3 + 4/4)/2); confidence = 1 − mean over the 3 others
    assert confidence == pytest.approx(1 - (0 + (1 / 3 + 1 / 4) / 2 + 1.0) / 3)
    # two labelers who disagree: the earliest, with no support from the other
    assert medoid(["yes", "no"]) == ("yes", 0.0)
    text, confidence = medoid(["only one"])
    assert text == "only one" and math.isnan(confidence)
    assert medoid(["A", "a", "a b"])[0] == "A"  # lowercased before comparing: first of the pair


def test_medoid_is_returned_as_written():
    assert medoid(["Hello, world!", "hello world", "hello there world"])[0] == "Hello, world!"
    text, confidence = medoid([""])
    assert text == "" and math.isnan(confidence)
