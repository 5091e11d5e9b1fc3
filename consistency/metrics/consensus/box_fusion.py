"""Consensus boxes: cluster the labelers' boxes by IoU, keep clusters a quorum drew, average.

An answer is a list of boxes ``{"x", "y", "w", "h", "class"}`` (pixels; x, y the top-left
corner; ``class`` may be absent for class-less boxes). Per item:

1. Clustering against a growing reference. Answers are taken in order (most boxes first,
   then labeler order, so the result is deterministic). The first answer's boxes seed the
   clusters; each next answer's boxes are matched one-to-one to the clusters' current mean
   boxes by an optimal assignment on IoU (``scipy.optimize.linear_sum_assignment``); a
   match with IoU ≥ ``iou_threshold`` (default 0.5, PASCAL VOC's) joins that cluster and
   moves its mean, an unmatched box seeds a new cluster. One answer contributes at most one
   box to a cluster.
2. Quorum. A cluster is kept when at least ``quorum`` answers contributed to it; by default
   more than half of the item's answers (``n // 2 + 1``).
3. Fusion. Coordinates are the mean of the members' (x, y, w, h); the class is the members'
   majority class, or None when the top classes tie (``class_tie`` = True; the box is kept,
   its class is not decided).

Each fused box carries ``support`` (answers in its cluster) and ``class_tie``. An item's
consensus is the list of fused boxes (possibly empty: no box reached the quorum); its
confidence is the mean support share of the fused boxes, or, when none is kept, the share of
answers with no box at all; ``tie`` is True when any kept box has a class tie.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from consistency.metrics._frames import check_frame
from consistency.metrics.consensus._base import result_frame

METHOD = "box_fusion"
DEFAULT_IOU_THRESHOLD = 0.5


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` with every box in ``b``.

    a : (n, 4) float array of (x, y, w, h); b : (m, 4). Returns (n, m) in [0, 1]; a pair
    whose union is empty (two zero-area boxes) has IoU 0.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ix = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2]) - np.maximum(
        a[:, None, 0], b[None, :, 0]
    )
    iy = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3]) - np.maximum(
        a[:, None, 1], b[None, :, 1]
    )
    inter = np.clip(ix, 0, None) * np.clip(iy, 0, None)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _parse(answer: object) -> tuple[np.ndarray, list]:
    """One answer → ((n, 4) coordinates, [class, ...]); ValueError when malformed."""
    if isinstance(answer, dict) or not isinstance(answer, Sequence) or isinstance(answer, str):
        raise ValueError(f"a box answer must be a list of box dicts, got {type(answer).__name__}")
    coords, classes = [], []
    for box in answer:
        if not isinstance(box, dict):
            raise ValueError(f"a box must be a dict with x, y, w, h, got {type(box).__name__}")
        try:
            xywh = [float(box[key]) for key in ("x", "y", "w", "h")]
        except KeyError as error:
            raise ValueError(f"a box lacks {error.args[0]!r}: {box}") from error
        except (TypeError, ValueError) as error:
            raise ValueError(f"box coordinates must be numbers: {box}") from error
        if not np.all(np.isfinite(xywh)) or xywh[2] < 0 or xywh[3] < 0:
            raise ValueError(f"box coordinates must be finite with w, h ≥ 0: {box}")
        coords.append(xywh)
        classes.append(box.get("class"))
    return np.asarray(coords, dtype=np.float64).reshape(-1, 4), classes


def _majority_class(classes: list) -> tuple[object, bool]:
    values, counts = np.unique(np.asarray([str(c) for c in classes]), return_counts=True)
    top = counts.max()
    if (counts == top).sum() > 1:
        return None, True
    winner = values[counts.argmax()]
    return next(c for c in classes if str(c) == winner), False


def fuse_boxes(
    answers: Sequence[Sequence[dict]],
    *,
    iou_threshold: float = DEFAULT_IOU_THRESHOLD,
    quorum: int | None = None,
) -> list[dict]:
    """Fuse one item's answers into consensus boxes (module docstring: the algorithm).

    Parameters
    ----------
    answers : one list of box dicts per answer (labeler), in labeler order.
    iou_threshold : minimum IoU for a box to join a cluster, in (0, 1].
    quorum : answers a cluster needs to be kept; default more than half of ``answers``.

    Returns
    -------
    list of dicts {"x", "y", "w", "h", "class", "support", "class_tie"}, in the order the
    clusters were founded.
    """
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold!r}")
    parsed = [_parse(answer) for answer in answers]
    if not parsed:
        raise ValueError("no answers to fuse")
    needed = len(parsed) // 2 + 1 if quorum is None else int(quorum)
    if needed < 1:
        raise ValueError(f"quorum must be at least 1, got {quorum!r}")
    order = sorted(range(len(parsed)), key=lambda index: (-len(parsed[index][0]), index))
    members: list[list[tuple[np.ndarray, object]]] = []
    means = np.zeros((0, 4))
    for index in order:
        coords, classes = parsed[index]
        if len(coords) == 0:
            continue
        matched_box = np.full(len(coords), -1)
        if len(means):
            iou = box_iou(coords, means)
            rows, cols = linear_sum_assignment(-iou)
            keep = iou[rows, cols] >= iou_threshold
            matched_box[rows[keep]] = cols[keep]
        for box, cluster in enumerate(matched_box):
            if cluster < 0:
                members.append([(coords[box], classes[box])])
                means = np.vstack([means, coords[box]])
            else:
                members[cluster].append((coords[box], classes[box]))
                means[cluster] = np.mean([c for c, _ in members[cluster]], axis=0)
    fused = []
    for cluster, group in enumerate(members):
        if len(group) < needed:
            continue
        label, class_tie = _majority_class([c for _, c in group])
        x, y, w, h = (float(v) for v in means[cluster])
        fused.append(
            {"x": x, "y": y, "w": w, "h": h, "class": label, "support": len(group), "class_tie": class_tie}
        )
    return fused


def box_consensus(
    frame: pd.DataFrame,
    *,
    iou_threshold: float = DEFAULT_IOU_THRESHOLD,
    quorum: int | None = None,
) -> pd.DataFrame:
    """Consensus boxes per item.

    Parameters
    ----------
    frame : columns item, labeler, value; value is a list of box dicts (an empty list means
        "no box"; a missing value is an error — drop skipped answers first).
    iou_threshold, quorum : see :func:`fuse_boxes`.

    Returns
    -------
    DataFrame indexed by item: consensus (list of fused boxes), method ("box_fusion"),
    confidence, n_answers, tie (module docstring).
    """
    check_frame(frame)
    try:
        ordered = frame.sort_values(["item", "labeler"], kind="stable")
    except TypeError:  # labelers of mixed types: keep the frame's order within an item
        ordered = frame
    items, consensus, confidence, n_answers, tie = [], [], [], [], []
    for item, group in ordered.groupby("item", sort=True)["value"]:
        answers = list(group)
        fused = fuse_boxes(answers, iou_threshold=iou_threshold, quorum=quorum)
        items.append(item)
        consensus.append(fused)
        n_answers.append(len(answers))
        tie.append(any(box["class_tie"] for box in fused))
        if fused:
            confidence.append(float(np.mean([box["support"] for box in fused])) / len(answers))
        else:
            confidence.append(sum(len(answer) == 0 for answer in answers) / len(answers))
    out = np.empty(len(consensus), dtype=object)
    out[:] = consensus
    return result_frame(
        pd.Index(items), out, method=METHOD, confidence=np.asarray(confidence), n_answers=n_answers, tie=tie
    )
