"""Box agreement on hand-made cases: IoU, thresholded optimal matching, per-pair figures, alpha."""

import numpy as np
import pandas as pd
import pytest

from consistency.metrics.boxes.agreement import (
    box_agreement,
    box_alpha,
    iou_matrix,
    labeler_pair_agreement,
    match,
    match_arrays,
    pair_table,
)
from consistency.metrics.stats.alpha import alpha_from_distance_matrix


def box(x, y, w=10, h=10, c="car"):
    return {"x": x, "y": y, "w": w, "h": h, "class": c}


def frame(rows):
    return pd.DataFrame(rows, columns=["item", "labeler", "value"])


def test_iou_of_known_boxes():
    a = np.array([[0, 0, 10, 10]], dtype=float)
    b = np.array([[5, 0, 10, 10], [20, 20, 5, 5], [0, 0, 10, 10], [0, 0, 0, 0]], dtype=float)
    np.testing.assert_allclose(iou_matrix(a, b)[0], [50 / 150, 0.0, 1.0, 0.0])
    assert iou_matrix(a, np.zeros((0, 4))).shape == (1, 0)


def test_weak_overlaps_never_displace_a_strong_match():
    # IoU(a1, b1) = 0.6; IoU(a1, b2) = IoU(a2, b1) = 0.45: a plain max-IoU assignment would
    # pair a1-b2 and a2-b1 (0.9 in total) and then lose both to the threshold.
    s = 10 * 0.55 / 1.45
    a = np.array([[0, 0, 10, 1], [2.5 + s, 0, 10, 1]])
    b = np.array([[2.5, 0, 10, 1], [-s, 0, 10, 1]])
    iou = iou_matrix(a, b)
    assert (
        iou[0, 0] == pytest.approx(0.6)
        and iou[0, 1] == pytest.approx(0.45)
        and iou[1, 0] == pytest.approx(0.45)
    )
    rows, cols, matched = match_arrays(a, b)
    assert rows.tolist() == [0] and cols.tolist() == [0] and matched.tolist() == pytest.approx([0.6])


def test_match_is_optimal_and_thresholded():
    a = [box(0, 0), box(100, 100)]
    b = [box(101, 100), box(1, 0), box(300, 300, 5, 5)]
    assert sorted((i, j) for i, j, _ in match(a, b)) == [(0, 1), (1, 0)]
    assert match([box(0, 0)], [box(8, 8)]) == []
    assert match([box(0, 0)], [box(8, 8)], threshold=0.01) != []


def test_pair_distance_counts_unmatched_boxes_as_full_disagreement():
    # Matched pair IoU 0.6 (same class) plus one extra box: δ = (0.4 + 1) / 2.
    one = frame([(1, "a", [box(0, 0, 10, 1)]), (1, "b", [box(2.5, 0, 10, 1), box(50, 50)])])
    row = pair_table(one).iloc[0]
    assert (row.n_a, row.n_b, row.matched) == (1, 2, 1)
    assert row.iou_sum == pytest.approx(0.6) and row.distance == pytest.approx(0.7)


def test_class_mismatch_is_full_disagreement_only_when_class_aware():
    two = frame([(1, "a", [box(0, 0, c="car")]), (1, "b", [box(1, 0, c="truck")])])
    iou = 90 / 110
    assert pair_table(two).iloc[0].distance == pytest.approx(1.0)
    assert pair_table(two, class_aware=False).iloc[0].distance == pytest.approx(1 - iou)
    assert pair_table(two).iloc[0].same_class == 0


def test_empty_answers_agree_with_each_other():
    empty = frame([(1, "a", []), (1, "b", []), (2, "a", [box(0, 0)]), (2, "b", None)])
    table = pair_table(empty)
    assert table["distance"].tolist() == [0.0, 1.0]
    assert box_agreement(empty)["per_item"]["agreement"].tolist() == [1.0, 0.0]


def test_per_labeler_pair_figures():
    rows = [
        (1, "ann", [box(0, 0), box(50, 50)]),
        (1, "bob", [box(1, 0), box(50, 50, c="truck")]),
        (1, "cy", [box(0, 0)]),
        (2, "ann", [box(0, 0)]),
        (2, "bob", [box(0, 0)]),
    ]
    table = labeler_pair_agreement(frame(rows))
    ann_bob = table.loc[("ann", "bob")]
    assert ann_bob["items"] == 2 and ann_bob["matched"] == 3
    assert ann_bob["mean_iou"] == pytest.approx((90 / 110 + 1 + 1) / 3)
    assert ann_bob["class_agreement"] == pytest.approx(2 / 3)
    assert ann_bob["count_agreement"] == 1.0
    ann_cy = table.loc[("ann", "cy")]
    assert ann_cy["count_agreement"] == 0.0 and ann_cy["match_rate"] == pytest.approx(1 / 1.5)
    assert set(table.index) == {("ann", "bob"), ("ann", "cy"), ("bob", "cy")}


def test_alpha_is_krippendorff_alpha_over_box_set_distances():
    rng = np.random.default_rng(3)
    rows = []
    for item in range(8):
        truth = [box(rng.uniform(0, 100), rng.uniform(0, 100)) for _ in range(rng.integers(0, 3))]
        for labeler in ("a", "b", "c")[: rng.integers(1, 4)]:
            rows.append((item, labeler, [box(b["x"] + rng.normal(0, 2), b["y"]) for b in truth]))
    data = frame(rows)
    # Brute force: δ between every pair of answers, then textbook alpha from the full matrix.
    n = len(data)
    d = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            pair = frame([(0, "x", data["value"][i]), (0, "y", data["value"][j])])
            d[i, j] = d[j, i] = pair_table(pair).iloc[0].distance
    assert box_alpha(data) == pytest.approx(alpha_from_distance_matrix(d, data["item"]))


def test_agreement_summary_and_alpha_order():
    good = frame([(i, lab, [box(10 * i, 5, 20, 20)]) for i in range(6) for lab in ("a", "b", "c")])
    perfect = box_agreement(good)
    assert perfect["alpha"] == pytest.approx(1.0) and perfect["mean_iou"] == pytest.approx(1.0)
    assert perfect["pairs"] == 18 and perfect["threshold"] == 0.5
    sloppy = good.copy()
    c = sloppy["labeler"] == "c"
    sloppy.loc[c, "value"] = pd.Series(
        [[box(10 * i + 6, 5, 20, 20, "truck"), box(300, 300, 4, 4)] for i in range(6)], index=sloppy.index[c]
    )
    worse = box_agreement(sloppy)
    assert worse["alpha"] < perfect["alpha"]
    assert worse["class_agreement"] < 1 and worse["count_agreement"] == pytest.approx(1 / 3)
    assert isinstance(worse["labeler_pairs"], pd.DataFrame)


def test_all_answers_identical_and_empty_gives_undefined_alpha():
    empty = frame([(i, lab, []) for i in range(3) for lab in ("a", "b")])
    assert np.isnan(box_alpha(empty))
    assert box_agreement(empty)["alpha"] is None


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(1, "a", [box(0, 0, -1, 5)]), (1, "b", [])], "negative"),
        ([(1, "a", [{"x": 0, "y": 0, "w": 1}]), (1, "b", [])], "finite x, y, w and h"),
        ([(1, "a", [box(0, 0)]), (1, "a", [box(0, 0)])], "one labeler"),
        ([(1, "a", [box(0, 0)]), (2, "b", [box(0, 0)])], "two labelers"),
    ],
)
def test_bad_input_says_what_is_wrong(rows, message):
    with pytest.raises(ValueError, match=message):
        box_agreement(frame(rows))
