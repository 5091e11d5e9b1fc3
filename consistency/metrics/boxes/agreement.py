"""Bounding-box agreement: IoU matching between labelers, per-pair figures, alpha with 1 − IoU.

A box answer (``value``) is a list of boxes ``{"x", "y", "w", "h", "class"}`` in pixels, (x, y) the
top-left corner; an empty list means "nothing to box".

**Matching.** Two labelers' boxes on an item are matched one-to-one by an optimal assignment
(``scipy.optimize.linear_sum_assignment``) maximizing the total IoU over pairs whose IoU is at
least ``threshold`` (default 0.5, the PASCAL VOC convention); pairs below the threshold are never
matched (their IoU is zeroed before the assignment, so two weak overlaps never displace a strong
one).

**Per pair of labelers** (over the items both answered): mean IoU of matched boxes, box-count
agreement (share of items where both drew as many boxes), class agreement of matched boxes,
matched share of boxes.

**Alpha** (documented construction). The values of Krippendorff's alpha are the answers, one box
set per labeler and item, with the distance between two box sets A and B

    δ(A, B) = (Σ_matched d_ij + u) / (m + u),  d_ij = 1 − IoU_ij  (1 if the classes differ, when
    ``class_aware``),

where m is the number of matched pairs and u the number of unmatched boxes in A and B: each
unmatched box counts as full disagreement, δ ∈ [0, 1], identical sets give 0, two empty sets
agree (0). D_o averages δ over labeler pairs within items, D_e over pairs of answers from any
items (exact up to ``max_expected_pairs`` pairs, else a seeded uniform sample; see
:func:`consistency.metrics.stats.alpha.pairwise_disagreement`), and alpha = 1 − D_o / D_e.

Everything is vectorized except the assignment itself: scipy solves one matrix per answer pair,
so the cost is one small ``linear_sum_assignment`` per labeler pair per item (plus the sampled
D_e pairs).
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from consistency.metrics.arrays import AnyArray, FloatArray, IntArray, ObjectArray
from consistency.metrics.frames import check_frame, factorize
from consistency.metrics.stats.alpha import MAX_EXPECTED_PAIRS, pairwise_disagreement, within_item_pairs

DEFAULT_THRESHOLD = 0.5
_COORDS = ["x", "y", "w", "h"]
#: A box as labelers give it: ``{"x", "y", "w", "h", "class"}``.
Box = Mapping[str, Any]


def box_array(boxes: Sequence[Box]) -> FloatArray:
    """(n, 4) float array of x, y, w, h from a list of n box dicts."""
    if not boxes:
        return np.zeros((0, 4))
    try:
        return np.array([[b["x"], b["y"], b["w"], b["h"]] for b in boxes], dtype=np.float64)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"a box needs numeric x, y, w and h: {exc}") from exc


def iou_matrix(a: AnyArray, b: AnyArray) -> FloatArray:
    """IoU of every box in ``a`` with every box in ``b``.

    Parameters
    ----------
    a : (n, 4) array of x, y, w, h; b : (m, 4) array.

    Returns
    -------
    (n, m) float64 array in [0, 1]; 0 where the union is empty.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None, :]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None, :]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou: FloatArray = np.where(union > 0, inter / union, 0.0)
    return iou


def match_arrays(
    a: AnyArray, b: AnyArray, threshold: float = DEFAULT_THRESHOLD
) -> tuple[IntArray, IntArray, FloatArray]:
    """Optimal one-to-one matching of two box arrays (see the module docstring).

    Parameters
    ----------
    a : (n, 4) boxes; b : (m, 4) boxes; threshold : minimum IoU of a match.

    Returns
    -------
    (rows, cols, iou): (k,) indices into a and b and the (k,) IoUs of the matched pairs.
    """
    iou = iou_matrix(a, b)
    gain = np.where(iou >= threshold, iou, 0.0)
    if not gain.any():
        empty: IntArray = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    rows, cols = linear_sum_assignment(gain, maximize=True)
    keep = iou[rows, cols] >= threshold
    return rows[keep].astype(np.int64), cols[keep].astype(np.int64), iou[rows[keep], cols[keep]]


def match(
    a: Sequence[Box], b: Sequence[Box], threshold: float = DEFAULT_THRESHOLD
) -> list[tuple[int, int, float]]:
    """Optimal one-to-one matching of two lists of box dicts: [(index in a, index in b, IoU)]."""
    rows, cols, iou = match_arrays(box_array(a), box_array(b), threshold)
    return [(int(r), int(c), float(v)) for r, c, v in zip(rows, cols, iou, strict=True)]


class BoxAnswers:
    """The answers of a frame, sorted by item, as flat arrays.

    Attributes
    ----------
    frame : the answers (n_answers rows) sorted by item, RangeIndex.
    item : (n_answers,) int64 item code of each answer.
    coords : (n_boxes, 4) x, y, w, h of every box; classes : (n_boxes,) int64 class codes.
    start : (n_answers + 1,) int64, answer i's boxes are ``coords[start[i]:start[i + 1]]``.
    sizes : (n_answers,) int64 boxes per answer.
    """

    def __init__(self, frame: pd.DataFrame):
        check_frame(frame, min_labelers=2, allow_missing_values=True)  # None: no box
        item_codes, _ = factorize(frame["item"])
        order = np.argsort(item_codes, kind="stable")
        self.frame: pd.DataFrame = frame.iloc[order].reset_index(drop=True)
        self.item: IntArray = item_codes[order]
        flat = self.frame["value"].explode().dropna()  # one row per box, index = answer row
        sizes = np.bincount(flat.index.to_numpy(dtype=np.int64), minlength=len(self.frame))
        self.start: IntArray = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.sizes: IntArray = sizes.astype(np.int64, copy=False)
        self._cache: dict[tuple[int, int, float, bool], tuple[int, float, int, float]] = {}
        try:
            table = pd.DataFrame(flat.tolist(), columns=[*_COORDS, "class"])
            self.coords: FloatArray = table[_COORDS].to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"a box answer is a list of {{x, y, w, h, class}} objects with numbers ({exc})"
            ) from exc
        if not np.isfinite(self.coords).all():
            raise ValueError("every box needs finite x, y, w and h")
        if (self.coords[:, 2:] < 0).any():
            raise ValueError("box width and height cannot be negative")
        self.classes: IntArray = pd.factorize(table["class"].fillna("").astype(str))[0].astype(np.int64)

    def compare(self, i: int, j: int, threshold: float, class_aware: bool) -> tuple[int, float, int, float]:
        """(matched, IoU sum, same-class matches, distance δ) of answers i and j (memoized)."""
        key = (min(i, j), max(i, j), threshold, class_aware)
        if key not in self._cache:
            sa, sb = slice(self.start[i], self.start[i + 1]), slice(self.start[j], self.start[j + 1])
            rows, cols, iou = match_arrays(self.coords[sa], self.coords[sb], threshold)
            same = self.classes[sa][rows] == self.classes[sb][cols]
            d = np.where(same, 1.0 - iou, 1.0) if class_aware else 1.0 - iou
            unmatched = int(self.sizes[i] + self.sizes[j]) - 2 * len(rows)
            total = len(rows) + unmatched
            distance = float(d.sum() + unmatched) / total if total else 0.0
            self._cache[key] = (len(rows), float(iou.sum()), int(same.sum()), float(distance))
        return self._cache[key]


def _pair_table(answers: BoxAnswers, threshold: float, class_aware: bool) -> pd.DataFrame:
    i, j = within_item_pairs(answers.item)
    stats = np.array(
        [answers.compare(a, b, threshold, class_aware) for a, b in zip(i, j, strict=True)], dtype=np.float64
    ).reshape(-1, 4)
    labelers = answers.frame["labeler"].to_numpy()
    return pd.DataFrame(
        {
            "item": answers.frame["item"].to_numpy()[i],
            "labeler_a": labelers[i],
            "labeler_b": labelers[j],
            "n_a": answers.sizes[i],
            "n_b": answers.sizes[j],
            "matched": stats[:, 0].astype(np.int64),
            "iou_sum": stats[:, 1],
            "same_class": stats[:, 2].astype(np.int64),
            "distance": stats[:, 3],
        }
    )


def pair_table(
    frame: pd.DataFrame, *, threshold: float = DEFAULT_THRESHOLD, class_aware: bool = True
) -> pd.DataFrame:
    """One row per pair of answers on the same item.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (value = list of boxes).
    threshold : minimum IoU of a match; class_aware : a class mismatch is full disagreement in δ.

    Returns
    -------
    DataFrame (n_pairs rows) with columns ``item``, ``labeler_a``, ``labeler_b``, ``n_a``, ``n_b``
    (boxes drawn), ``matched``, ``iou_sum``, ``same_class`` and ``distance`` (δ).
    """
    return _pair_table(BoxAnswers(frame), threshold, class_aware)


def _labeler_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    swap = pairs["labeler_a"].astype(str) > pairs["labeler_b"].astype(str)
    pairs = pairs.assign(
        labeler_a=np.where(swap, pairs["labeler_b"], pairs["labeler_a"]),
        labeler_b=np.where(swap, pairs["labeler_a"], pairs["labeler_b"]),
        equal=pairs["n_a"] == pairs["n_b"],
        boxes=(pairs["n_a"] + pairs["n_b"]) / 2,
    )
    g = pairs.groupby(["labeler_a", "labeler_b"], sort=True)
    sums = g[["matched", "iou_sum", "same_class", "boxes"]].sum()
    matched = sums["matched"].where(sums["matched"] > 0)
    return pd.DataFrame(
        {
            "items": g.size(),
            "mean_iou": sums["iou_sum"] / matched,
            "count_agreement": g["equal"].mean(),
            "class_agreement": sums["same_class"] / matched,
            "match_rate": sums["matched"] / sums["boxes"].where(sums["boxes"] > 0),
            "matched": sums["matched"],
        }
    )


def labeler_pair_agreement(frame: pd.DataFrame, *, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Box agreement of every pair of labelers over the items both answered.

    Returns
    -------
    DataFrame indexed by (``labeler_a``, ``labeler_b``), each unordered pair once (names in
    string order), with columns ``items``, ``mean_iou`` (of matched boxes), ``count_agreement``
    (share of items where both drew as many boxes), ``class_agreement`` (of matched boxes),
    ``match_rate`` (matched pairs over the mean box count) and ``matched``; NaN where undefined.
    """
    return _labeler_pairs(pair_table(frame, threshold=threshold))


def _box_alpha(
    answers: BoxAnswers, threshold: float, class_aware: bool, max_expected_pairs: int, seed: int
) -> float:
    values = pd.Series(np.arange(len(answers.item)), index=answers.item)  # an answer is known by its row

    def distance(a: ObjectArray, b: ObjectArray) -> FloatArray:
        return np.array(
            [answers.compare(x, y, threshold, class_aware)[3] for x, y in zip(a, b, strict=True)], dtype=float
        )

    return pairwise_disagreement(
        values, distance, vectorized=True, max_expected_pairs=max_expected_pairs, seed=seed
    ).alpha


def box_alpha(
    frame: pd.DataFrame,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    class_aware: bool = True,
    max_expected_pairs: int = MAX_EXPECTED_PAIRS // 10,
    seed: int = 0,
) -> float:
    """Krippendorff's alpha of box answers with the set distance δ of the module docstring.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (value = list of boxes).
    threshold, class_aware : as in :func:`pair_table`.
    max_expected_pairs, seed : D_e is exact up to this many answer pairs, else estimated on a
        seeded sample of this many pairs (each pair costs one assignment).

    Returns
    -------
    float; ``nan`` when every answer is identical (D_e = 0).
    """
    return _box_alpha(BoxAnswers(frame), threshold, class_aware, max_expected_pairs, seed)


def box_agreement(
    frame: pd.DataFrame,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 0,
    max_expected_pairs: int = MAX_EXPECTED_PAIRS // 10,
) -> dict[str, Any]:
    """All box agreement figures of a project.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (value = list of boxes).
    threshold : minimum IoU of a match (default 0.5).
    seed, max_expected_pairs : for alpha's expected disagreement (see :func:`box_alpha`).

    Returns
    -------
    dict with ``mean_iou`` (of matched boxes), ``count_agreement`` (share of labeler pairs drawing
    as many boxes), ``class_agreement`` (of matched boxes), ``match_rate`` (matched boxes over the
    mean box count), ``alpha`` (class-aware), ``pairs`` (answer pairs compared), ``threshold``,
    ``labeler_pairs`` (see :func:`labeler_pair_agreement`) and ``per_item`` (DataFrame ``item``,
    ``n`` answers, ``agreement`` = mean over pairs of IoU sum / mean box count, 1 for two empty
    answers, NaN below two answers). Figures are None where nothing was matched or undefined.
    """
    answers = BoxAnswers(frame)
    pairs = _pair_table(answers, threshold, True)
    if pairs.empty:
        raise ValueError("no item has answers from two labelers: agreement is undefined")
    boxes = (pairs["n_a"] + pairs["n_b"]) / 2
    matched = int(pairs["matched"].sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(boxes > 0, pairs["iou_sum"] / boxes, 1.0)
    counts = answers.frame.groupby("item", sort=True).size()
    per_item = pd.DataFrame({"item": counts.index, "n": counts.to_numpy()})
    per_item["agreement"] = per_item["item"].map(pd.Series(score).groupby(pairs["item"]).mean())
    try:
        alpha = _box_alpha(answers, threshold, True, max_expected_pairs, seed)
    except ValueError:  # fewer than two items with two answers
        alpha = float("nan")
    return {
        "mean_iou": float(pairs["iou_sum"].sum() / matched) if matched else None,
        "count_agreement": float((pairs["n_a"] == pairs["n_b"]).mean()),
        "class_agreement": float(pairs["same_class"].sum() / matched) if matched else None,
        "match_rate": float(matched / boxes.sum()) if boxes.sum() else None,
        "alpha": float(alpha) if np.isfinite(alpha) else None,
        "pairs": len(pairs),
        "threshold": threshold,
        "labeler_pairs": _labeler_pairs(pairs),
        "per_item": per_item,
    }
