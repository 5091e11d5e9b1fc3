"""Box fusion and transcript medoid on hand-made cases."""

import numpy as np
import pandas as pd
import pytest

from consistency.metrics.consensus import (
    RESULT_COLUMNS,
    box_consensus,
    box_iou,
    fuse_boxes,
    medoid_transcript,
    normalize_transcript,
    transcript_consensus,
)


def box(x, y, w, h, label="car"):
    return {"x": x, "y": y, "w": w, "h": h, "class": label}


def test_box_iou():
    iou = box_iou(
        np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5], [0, 0, 0, 0]])
    )
    assert iou[0].tolist() == pytest.approx([1.0, 50 / 150, 0.0, 0.0])
    assert box_iou(np.zeros((0, 4)), np.array([[0, 0, 1, 1]])).shape == (0, 1)


def test_fuse_boxes_keeps_clusters_drawn_by_a_majority_and_averages():
    answers = [
        [box(0, 0, 10, 10), box(100, 100, 20, 20, "dog")],
        [box(2, 0, 10, 10), box(101, 99, 20, 20, "dog")],
        [box(1, 3, 10, 10, "bus")],  # misses the dog; calls the car a bus
        [box(300, 300, 5, 5)],  # a box nobody else drew
    ]
    fused = fuse_boxes(answers)  # quorum: 4 // 2 + 1 = 3
    assert len(fused) == 1
    car = fused[0]
    assert (car["x"], car["y"], car["w"], car["h"]) == pytest.approx((1.0, 1.0, 10.0, 10.0))
    assert car["class"] == "car" and car["support"] == 3 and not car["class_tie"]
    relaxed = fuse_boxes(answers, quorum=2)
    assert [b["class"] for b in relaxed] == ["car", "dog"]
    assert relaxed[1]["support"] == 2 and relaxed[1]["x"] == pytest.approx(100.5)


def test_fuse_boxes_one_box_per_labeler_per_cluster_and_iou_threshold():
    # Labeler 1 draws two overlapping boxes: they cannot both join one cluster.
    answers = [[box(0, 0, 10, 10), box(1, 0, 10, 10)], [box(0, 0, 10, 10)]]
    fused = fuse_boxes(answers, quorum=2)
    assert len(fused) == 1 and fused[0]["support"] == 2
    far = [[box(0, 0, 10, 10)], [box(6, 0, 10, 10)]]  # IoU 4/16 = 0.25
    assert fuse_boxes(far, quorum=2) == []
    assert len(fuse_boxes(far, quorum=2, iou_threshold=0.2)) == 1


def test_fuse_boxes_class_tie_keeps_the_box_but_not_its_class():
    fused = fuse_boxes([[box(0, 0, 10, 10, "car")], [box(0, 0, 10, 10, "bus")]])
    assert fused[0]["class"] is None and fused[0]["class_tie"]


def test_box_consensus_frame():
    frame = pd.DataFrame(
        {
            "item": [1, 1, 1, 2, 2, 2],
            "labeler": ["a", "b", "c", "a", "b", "c"],
            "value": [
                [box(0, 0, 10, 10)],
                [box(0, 0, 10, 10)],
                [],
                [],
                [],
                [box(5, 5, 5, 5)],
            ],
        }
    )
    result = box_consensus(frame)
    assert tuple(result.columns) == RESULT_COLUMNS and (result["method"] == "box_fusion").all()
    assert len(result.loc[1, "consensus"]) == 1 and result.loc[1, "confidence"] == pytest.approx(2 / 3)
    assert result.loc[2, "consensus"] == [] and result.loc[2, "confidence"] == pytest.approx(2 / 3)
    assert result["n_answers"].tolist() == [3, 3] and not result["tie"].any()


@pytest.mark.parametrize(
    "bad",
    [
        "not boxes",
        [{"x": 0, "y": 0, "w": 1}],
        [{"x": 0, "y": 0, "w": -1, "h": 1}],
        [{"x": "left", "y": 0, "w": 1, "h": 1}],
        [[0, 0, 1, 1]],
    ],
)
def test_box_consensus_rejects_malformed_boxes(bad):
    frame = pd.DataFrame({"item": [1, 1], "labeler": ["a", "b"], "value": [[box(0, 0, 1, 1)], bad]})
    with pytest.raises(ValueError):
        box_consensus(frame)
    with pytest.raises(ValueError, match="quorum"):
        fuse_boxes([[box(0, 0, 1, 1)]], quorum=0)


def test_normalize_transcript():
    assert (
        normalize_transcript("  Don't  STOP,me-now!  [unintelligible] ok... ")
        == "dont stop me now [unintelligible] ok"
    )
    assert normalize_transcript("Café\u00a0NOIR") == "café noir"
    with pytest.raises(ValueError, match="string"):
        normalize_transcript(None)


def test_medoid_is_the_transcript_closest_to_the_others():
    texts = ["the cat sat", "The cat sat.", "the cat sat down", "a dog ran off"]
    medoid = medoid_transcript(texts)
    assert medoid.index == 0 and not medoid.tie
    # d = mean of WER both ways; from "the cat sat": 0, (1/3 + 1/4)/2, and 4 edits to
    # "a dog ran off" → (4/3 + 4/4)/2; confidence = 1 − mean over the 3 others
    assert medoid.confidence == pytest.approx(1 - (0 + (1 / 3 + 1 / 4) / 2 + (4 / 3 + 1) / 2) / 3)
    # two labelers who disagree: a tie, no consensus
    assert medoid_transcript(["yes", "no"]) == (None, 0.0, True)
    assert medoid_transcript(["only one"]).index == 0
    # a custom normalizer: "A" and "a" differ, so "a" (closest to both others) wins
    assert medoid_transcript(["A", "a", "a b"], normalizer=str).index == 1
    assert medoid_transcript(["A", "a", "a b"]).index == 0  # the default lowercases: first of the pair


def test_transcript_consensus_frame():
    frame = pd.DataFrame(
        {
            "item": [1, 1, 1, 2, 2, 3],
            "labeler": list("abcabc"),
            "value": ["Hello, world!", "hello world", "hello there world", "yes", "no", ""],
        }
    )
    result = transcript_consensus(frame)
    assert tuple(result.columns) == RESULT_COLUMNS
    assert result.loc[1, "consensus"] == "Hello, world!"  # as its labeler wrote it
    assert result.loc[2, "consensus"] is None and result.loc[2, "tie"]
    assert result.loc[3, "consensus"] == "" and np.isnan(result.loc[3, "confidence"])
    assert result["n_answers"].tolist() == [3, 2, 1]
    with pytest.raises(ValueError, match="every answer needs a value"):
        transcript_consensus(pd.DataFrame({"item": [1], "labeler": ["a"], "value": [None]}))
