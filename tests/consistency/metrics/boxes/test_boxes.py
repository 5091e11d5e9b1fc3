import numpy as np
import pandas as pd
import pytest

from consistency.metrics.boxes.agreement import box_agreement, iou_matrix, match
from consistency.metrics.boxes.consensus import fuse_boxes


def box(x, y, w, h, c="dent"):
    return {"x": x, "y": y, "w": w, "h": h, "class": c}


def test_iou_of_known_boxes():
    a = np.array([[0, 0, 10, 10]], dtype=float)
    b = np.array([[5, 0, 10, 10], [20, 20, 5, 5], [0, 0, 10, 10]], dtype=float)
    assert iou_matrix(a, b)[0].tolist() == pytest.approx([50 / 150, 0.0, 1.0])


def test_matching_is_optimal_and_thresholded():
    a = [box(0, 0, 10, 10), box(100, 100, 10, 10)]
    b = [box(101, 100, 10, 10), box(1, 0, 10, 10), box(300, 300, 5, 5)]
    assert sorted((i, j) for i, j, _ in match(a, b)) == [(0, 1), (1, 0)]
    assert match([box(0, 0, 10, 10)], [box(8, 8, 10, 10)]) == []  # IoU far below 0.5


def test_agreement_figures_and_alpha():
    good = pd.DataFrame(
        [(i, lab, [box(10 * i, 5, 20, 20)]) for i in range(6) for lab in ("a", "b", "c")],
        columns=["item", "labeler", "value"],
    )
    perfect = box_agreement(good)
    assert perfect["mean_iou"] == pytest.approx(1.0) and perfect["count_agreement"] == 1.0
    assert perfect["alpha"] == pytest.approx(1.0)
    sloppy = good.copy()
    sloppy.loc[sloppy["labeler"] == "c", "value"] = sloppy.loc[sloppy["labeler"] == "c", "value"].apply(
        lambda v: [box(v[0]["x"] + 6, 5, 20, 20, "scratch"), box(300, 300, 4, 4)]
    )
    worse = box_agreement(sloppy)
    assert worse["alpha"] < perfect["alpha"] and worse["class_agreement"] < 1 and worse["count_agreement"] < 1


def test_fused_boxes_keep_quorum_and_average():
    answers = [[box(0, 0, 10, 10), box(50, 50, 5, 5)], [box(2, 0, 10, 10)], [box(0, 2, 10, 10, "scratch")]]
    fused, confidence = fuse_boxes(answers)
    assert len(fused) == 1 and fused[0]["class"] == "dent"
    assert fused[0]["x"] == pytest.approx(2 / 3, abs=0.01) and confidence == pytest.approx(1.0)
