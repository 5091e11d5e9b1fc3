"""Fused consensus boxes on hand-made cases.

Moved from the tests of a second box-fusion implementation (``consensus/box_fusion.py``, used by
no production code, removed in the issue-15 renovation) onto the one the runs use
(:func:`consistency.metrics.boxes.consensus.fuse_boxes`). Its quorum is a share of the labelers
(a cluster needs more than ``quorum`` × labelers), its confidence the mean share of labelers
behind the kept boxes, and malformed answers are refused by the box agreement that runs first.
"""

import numpy as np
import pandas as pd
import pytest

from consistency.metrics.boxes.agreement import box_agreement, iou_matrix
from consistency.metrics.boxes.consensus import fuse_boxes


def box(x, y, w, h, label="car"):
    return {"x": x, "y": y, "w": w, "h": h, "class": label}


def test_box_iou():
    iou = iou_matrix(
        np.array([[0, 0, 10, 10]]), np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5], [0, 0, 0, 0]])
    )
    assert iou[0].tolist() == pytest.approx([1.0, 50 / 150, 0.0, 0.0])
    assert iou_matrix(np.zeros((0, 4)), np.array([[0, 0, 1, 1]])).shape == (0, 1)


def test_fuse_boxes_keeps_clusters_drawn_by_a_majority_and_averages():
    answers = [
        [box(0, 0, 10, 10), box(100, 100, 20, 20, "dog")],
        [box(2, 0, 10, 10), box(101, 99, 20, 20, "dog")],
        [box(1, 3, 10, 10, "bus")],  # misses the dog; calls the car a bus
        [box(300, 300, 5, 5)],  # a box nobody else drew
    ]
    fused, confidence = fuse_boxes(answers)  # more than half of 4: 3 labelers
    assert len(fused) == 1
    car = fused[0]
    assert (car["x"], car["y"], car["w"], car["h"]) == pytest.approx((1.0, 1.0, 10.0, 10.0))
    assert car["class"] == "car" and confidence == pytest.approx(3 / 4)  # 3 of the 4 labelers
    relaxed, confidence = fuse_boxes(answers, quorum=0.25)  # more than 1 of 4: 2 labelers
    assert [b["class"] for b in relaxed] == ["car", "dog"]
    assert relaxed[1]["x"] == pytest.approx(100.5) and confidence == pytest.approx((3 / 4 + 2 / 4) / 2)


def test_fuse_boxes_one_box_per_labeler_per_cluster_and_iou_threshold():
    # Labeler 1 draws two overlapping boxes: they cannot both join one cluster.
    fused, confidence = fuse_boxes([[box(0, 0, 10, 10), box(1, 0, 10, 10)], [box(0, 0, 10, 10)]])
    assert len(fused) == 1 and confidence == pytest.approx(1.0)  # both labelers
    far = [[box(0, 0, 10, 10)], [box(6, 0, 10, 10)]]  # IoU 4/16 = 0.25
    assert fuse_boxes(far) == ([], None)
    assert len(fuse_boxes(far, threshold=0.2)[0]) == 1


def test_fused_boxes_per_item():
    kept, confidence = fuse_boxes([[box(0, 0, 10, 10)], [box(0, 0, 10, 10)], []])
    assert len(kept) == 1 and confidence == pytest.approx(2 / 3)
    assert fuse_boxes([[], [], [box(5, 5, 5, 5)]])[0] == []


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
def test_malformed_boxes_are_refused(bad):
    frame = pd.DataFrame({"item": [1, 1], "labeler": ["a", "b"], "value": [[box(0, 0, 1, 1)], bad]})
    with pytest.raises(ValueError):
        box_agreement(frame)
