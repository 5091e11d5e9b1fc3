"""Bounding-box agreement: IoU matching between labelers, box-count and class agreement, alpha
with distance 1 − IoU, and consensus boxes.

Boxes are (x, y, w, h) in pixels with a class. Matching between two labelers is an optimal
assignment (scipy's ``linear_sum_assignment`` on −IoU); a pair counts as matched when its IoU
is at least ``threshold`` (default 0.5, the PASCAL VOC convention).

Alpha construction (documented choice): for every item and pair of labelers, each matched pair
of boxes contributes the distance 1 − IoU (plus 1 if the classes differ, capped at 1), and
each unmatched box contributes 1 (full disagreement). D_o is the mean of these distances over
all items. D_e is the same quantity when each labeler's boxes are compared with another
labeler's boxes from a *different* item (a seeded permutation), i.e. agreement expected by
chance for these box distributions. alpha = 1 − D_o / D_e.
"""

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

DEFAULT_THRESHOLD = 0.5


def _array(boxes: Sequence[dict]) -> np.ndarray:
    if not boxes:
        return np.zeros((0, 4))
    return np.array([[b["x"], b["y"], b["w"], b["h"]] for b in boxes], dtype=np.float64)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (n, 4) with every box in ``b`` (m, 4); returns (n, m)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None, :]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None, :]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.where(union > 0, inter / union, 0.0)


def match(
    a: Sequence[dict], b: Sequence[dict], threshold: float = DEFAULT_THRESHOLD
) -> list[tuple[int, int, float]]:
    """Optimal one-to-one matching: [(index in a, index in b, IoU)] with IoU ≥ threshold."""
    iou = iou_matrix(_array(a), _array(b))
    if iou.size == 0:
        return []
    rows, cols = linear_sum_assignment(-iou)
    return [
        (int(r), int(c), float(iou[r, c])) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= threshold
    ]


def pair_distances(a: Sequence[dict], b: Sequence[dict], threshold: float = DEFAULT_THRESHOLD) -> list[float]:
    """Distances contributed by one pair of box sets (see the module docstring)."""
    matched = match(a, b, threshold)
    out = [min(1.0, 1.0 - iou + (a[i]["class"] != b[j]["class"])) for i, j, iou in matched]
    out += [1.0] * (len(a) + len(b) - 2 * len(matched))
    return out


def _pair_stats(a, b, threshold) -> dict:
    matched = match(a, b, threshold)
    return {
        "matched": len(matched),
        "iou_sum": sum(iou for _, _, iou in matched),
        "same_class": sum(a[i]["class"] == b[j]["class"] for i, j, _ in matched),
        "count_equal": len(a) == len(b),
        "boxes": (len(a) + len(b)) / 2,
    }


def box_agreement(frame: pd.DataFrame, *, threshold: float = DEFAULT_THRESHOLD, seed: int = 0) -> dict:
    """Agreement of box answers.

    frame : columns item, labeler, value (value = list of {x, y, w, h, class}).
    returns : dict with mean_iou (of matched boxes), count_agreement (share of labeler pairs
    drawing as many boxes), class_agreement (of matched boxes), match_rate (matched boxes over
    the mean box count), alpha, pairs, and ``per_item`` (DataFrame item, n, agreement).
    """
    if frame.empty:
        raise ValueError("no answers: the annotations frame is empty")
    groups = [(item, list(g["value"])) for item, g in frame.groupby("item", sort=True)]
    stats, observed, per_item = [], [], []
    pairs_by_item = []
    for item, answers in groups:
        if len(answers) < 2:
            per_item.append((item, len(answers), np.nan))
            continue
        item_scores = []
        for a, b in combinations(answers, 2):
            s = _pair_stats(a, b, threshold)
            stats.append(s)
            observed += pair_distances(a, b, threshold)
            item_scores.append(s["iou_sum"] / s["boxes"] if s["boxes"] else 1.0)
            pairs_by_item.append((item, a, b))
        per_item.append((item, len(answers), float(np.mean(item_scores))))
    if not stats:
        raise ValueError("no item has answers from two labelers: agreement is undefined")
    # Chance: each pair's first box set against a second box set from another item.
    shuffled = np.random.default_rng(seed).permutation(len(pairs_by_item))
    expected = []
    for p, (item, a, _) in enumerate(pairs_by_item):
        k = int(shuffled[p])
        if pairs_by_item[k][0] == item:
            k = (k + 1) % len(pairs_by_item)
        if pairs_by_item[k][0] != item:
            expected += pair_distances(a, pairs_by_item[k][2], threshold)
    d_o = float(np.mean(observed)) if observed else 0.0
    d_e = float(np.mean(expected)) if expected else float("nan")
    matched = sum(s["matched"] for s in stats)
    return {
        "mean_iou": sum(s["iou_sum"] for s in stats) / matched if matched else None,
        "count_agreement": float(np.mean([s["count_equal"] for s in stats])),
        "class_agreement": sum(s["same_class"] for s in stats) / matched if matched else None,
        "match_rate": matched / sum(s["boxes"] for s in stats) if sum(s["boxes"] for s in stats) else None,
        "alpha": 1.0 - d_o / d_e if d_e and np.isfinite(d_e) else (1.0 if d_o == 0 else None),
        "pairs": len(stats),
        "threshold": threshold,
        "per_item": pd.DataFrame(per_item, columns=["item", "n", "agreement"]),
    }


def fuse_boxes(
    answers: Sequence[Sequence[dict]], *, threshold: float = DEFAULT_THRESHOLD, quorum: float = 0.5
):
    """Consensus boxes for one item from each labeler's list of boxes.

    Boxes are clustered by matching each labeler's boxes to the current clusters (optimal IoU
    assignment against cluster means); a cluster is kept when more than ``quorum`` of the
    labelers drew it; its box is the mean of the coordinates and its class the majority class.
    returns : (boxes, confidence = mean share of labelers supporting the kept clusters)
    """
    labelers = len(answers)
    clusters: list[list[dict]] = []
    for boxes in answers:
        means = [_mean_box(c) for c in clusters]
        matched = match(boxes, means, threshold) if means else []
        used = set()
        for i, j, _ in matched:
            clusters[j].append(boxes[i])
            used.add(i)
        clusters += [[box] for i, box in enumerate(boxes) if i not in used]
    kept = [c for c in clusters if len(c) > quorum * labelers]
    fused = []
    for cluster in kept:
        mean = _mean_box(cluster)
        classes = pd.Series([b["class"] for b in cluster]).value_counts()
        mean["class"] = str(classes.index[0])
        fused.append(mean)
    confidence = float(np.mean([len(c) / labelers for c in kept])) if kept else None
    return fused, confidence


def _mean_box(cluster: Sequence[dict]) -> dict:
    arr = _array(cluster)
    x, y, w, h = arr.mean(axis=0)
    return {
        "x": round(float(x), 2),
        "y": round(float(y), 2),
        "w": round(float(w), 2),
        "h": round(float(h), 2),
        "class": cluster[0]["class"],
    }
