"""Consensus boxes of one item: cluster the labelers' boxes by IoU, keep the clusters a quorum
drew, average them.

Each labeler's boxes, in labeler order, are matched one-to-one to the current clusters' mean
boxes (optimal IoU assignment, :func:`consistency.metrics.boxes.agreement.match`, IoU ≥
``threshold``); a matched box joins its cluster, an unmatched one founds a new cluster. A cluster
is kept when more than ``quorum`` of the labelers drew it; its box is the mean of the members'
coordinates (rounded to 0.01 px) and its class the members' most frequent class.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from consistency.metrics.boxes.agreement import DEFAULT_THRESHOLD, Box, box_array, match


def fuse_boxes(
    answers: Sequence[Sequence[Box]], *, threshold: float = DEFAULT_THRESHOLD, quorum: float = 0.5
) -> tuple[list[dict[str, object]], float | None]:
    """Consensus boxes for one item from each labeler's list of boxes (module docstring).

    Parameters
    ----------
    answers : (n_labelers,) lists of box dicts, one per labeler.
    threshold : minimum IoU for a box to join a cluster.
    quorum : share of the labelers a cluster needs to exceed to be kept.

    Returns
    -------
    (boxes, confidence): the fused box dicts and the mean share of labelers supporting the kept
    clusters (None when nothing is kept).
    """
    labelers = len(answers)
    clusters: list[list[Box]] = []
    for boxes in answers:  # a handful of labelers per item
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


def _mean_box(cluster: Sequence[Box]) -> dict[str, object]:
    x, y, w, h = box_array(cluster).mean(axis=0)
    return {
        "x": round(float(x), 2),
        "y": round(float(y), 2),
        "w": round(float(w), 2),
        "h": round(float(h), 2),
        "class": cluster[0]["class"],
    }
