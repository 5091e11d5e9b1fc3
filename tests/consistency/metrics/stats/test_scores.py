"""HLP for transcripts (1 − WER) and boxes (class-aware F1), on hand-worked cases and against jiwer."""

import jiwer
import numpy as np
import pandas as pd
import pytest

from consistency.metrics.boxes.hlp import box_hlp, box_scores
from consistency.metrics.stats.scores import score_rates
from consistency.metrics.transcripts.hlp import transcript_hlp, transcript_scores


def _frame(rows):
    return pd.DataFrame(rows, columns=["item", "labeler", "value"])


def test_each_labeler_is_judged_with_the_other_as_reference():
    # "a b c d" against "a b": 2 deletions. As hypothesis A is judged by B's 2 words (WER 1.0),
    # B by A's 4 words (WER 0.5); the project sums both directions: 1 − 4/6.
    hlp = transcript_hlp(_frame([(1, "A", "a b c d"), (1, "B", "a b")]), n_boot=0)
    assert hlp.labelers.loc["A", "rate"] == pytest.approx(0.0)
    assert hlp.labelers.loc["B", "rate"] == pytest.approx(0.5)
    assert hlp.project["hlp"] == pytest.approx(1 - 4 / 6)
    assert hlp.measure == "word accuracy (1 − WER)"


def test_corpus_wer_matches_jiwer_on_random_transcripts():
    rng = np.random.default_rng(4)
    words = ["turn", "left", "at", "the", "gas", "station", "um", "now"]
    rows = []
    for item in range(40):
        for labeler in ("A", "B", "C"):
            rows.append((item, labeler, " ".join(rng.choice(words, size=rng.integers(1, 7)))))
    frame = _frame(rows)
    hlp = transcript_hlp(frame, n_boot=0)
    by_item = frame.pivot(index="item", columns="labeler", values="value")
    for labeler in ("A", "B", "C"):
        others = [o for o in ("A", "B", "C") if o != labeler]
        hyps = [by_item.loc[i, labeler] for i in by_item.index for _ in others]
        refs = [by_item.loc[i, o] for i in by_item.index for o in others]
        expected = max(0.0, 1 - jiwer.wer(refs, hyps))  # jiwer's corpus WER: Σ edits / Σ ref words
        assert hlp.labelers.loc[labeler, "rate"] == pytest.approx(expected)


def test_rules_gold_and_slices():
    frame = _frame(
        [
            (1, "A", "Umm, nearest gas station"),
            (1, "B", "Um nearest gas station"),
            (2, "A", "turn left"),
            (2, "B", "turn right"),
        ]
    )
    rules = [{"pattern": "Umm", "replacement": "Um", "regex": False}]
    gold = pd.Series({2: "turn left"})
    slices = pd.DataFrame({"noise": ["car", "clear"]}, index=[1, 2])
    hlp = transcript_hlp(frame, rules, gold=gold, slices=slices, n_boot=200)
    per_slice = hlp.per_slice["noise"]
    assert per_slice.loc["car", "rate"] == pytest.approx(1.0)  # equal once "Umm" → "um"
    assert per_slice.loc["clear", "rate"] == pytest.approx(0.5)  # 1 substitution in 2 words
    assert hlp.labelers.loc["A", "gold_rate"] == 1.0 and hlp.labelers.loc["B", "gold_rate"] == 0.5
    assert hlp.project["gold_n"] == 2 and hlp.project["gold_accuracy"] == pytest.approx(0.75)
    assert hlp.project["low"] <= hlp.project["hlp"] <= hlp.project["high"]


def test_transcript_scores_count_edits_against_the_reference():
    scores = transcript_scores(pd.Series(["a b x", "a"], index=[7, 8]), pd.Series({7: "a b c d"}))
    assert scores.to_dict("records") == [{"item": 7, "errors": 2.0, "total": 4.0}]


def _box(x, y, cls="dent", w=10, h=10):
    return {"x": x, "y": y, "w": w, "h": h, "class": cls}


def test_box_f1_counts_class_agreeing_matches():
    # B's box is A's shifted by one pixel: IoU 81/119 = 0.68 ≥ 0.5, same class → a match.
    # C drew the same place with another class → no match. Pairs: AB F1 1, AC 0, BC 0.
    frame = _frame([(1, "A", [_box(0, 0)]), (1, "B", [_box(1, 1)]), (1, "C", [_box(0, 0, "scratch")])])
    hlp = box_hlp(frame, n_boot=0)
    assert hlp.labelers["rate"].to_dict() == pytest.approx({"A": 0.5, "B": 0.5, "C": 0.0})
    assert hlp.project["hlp"] == pytest.approx(1 - 8 / 12)
    assert hlp.measure == "box F1 (IoU ≥ 0.5)"


def test_box_f1_threshold_and_gold():
    # Shifted by 4 px: IoU 36/164 = 0.22, below 0.5 → no match.
    frame = _frame([(1, "A", [_box(0, 0)]), (1, "B", [_box(4, 4)]), (2, "A", []), (2, "B", [])])
    hlp = box_hlp(frame, gold=pd.Series({1: [_box(0, 0)]}), n_boot=0)
    assert hlp.project["hlp"] == 0.0
    assert hlp.labelers.loc["A", "gold_rate"] == 1.0 and hlp.labelers.loc["B", "gold_rate"] == 0.0
    assert box_hlp(frame, threshold=0.2, n_boot=0).project["hlp"] == 1.0
    scores = box_scores(pd.Series([[_box(0, 0), _box(50, 50)]], index=[1]), pd.Series({1: [_box(0, 0)]}))
    assert scores.to_dict("records") == [{"item": 1, "errors": 1.0, "total": 3.0}]  # F1 = 2/3


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError):
        transcript_hlp(_frame([(1, "A", "x")]))
    with pytest.raises(ValueError):
        box_hlp(_frame([(1, "A", [_box(0, 0)]), (1, "B", [{"x": "left"}])]))
    with pytest.raises(ValueError):
        score_rates(pd.DataFrame({"item": [1], "errors": [0.0], "total": [1.0]}), n_boot=-1)
