"""Human-level performance of boxes: F1 at IoU ≥ threshold, class-aware, each labeler judged by
the others.

Two labelers' boxes on an item are matched one-to-one
(:func:`consistency.metrics.boxes.agreement.match_arrays`); a match counts when the classes
agree. F1 = 2 · matches / (boxes of both), summed over pairs: a scored row per judged answer
with ``errors`` = boxes of both − 2 · class-agreeing matches and ``total`` = boxes of both (see
:mod:`consistency.metrics.stats.scores` for how rows become rates and intervals). Items where
nobody drew a box add nothing (F1 has no denominator there), as in detection benchmarks.
"""

import numpy as np
import pandas as pd

from consistency.metrics.boxes.agreement import DEFAULT_THRESHOLD, BoxAnswers, box_array, match_arrays
from consistency.metrics.stats.alpha import within_item_pairs
from consistency.metrics.stats.bootstrap import DEFAULT_LEVEL, DEFAULT_N_BOOT
from consistency.metrics.stats.scores import ScoreHLP, gold_scores, hlp_from_scores


def box_scores(
    hypotheses: pd.Series, references: pd.Series, *, threshold: float = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """Class-aware box matches of each hypothesis against its item's reference boxes.

    Parameters
    ----------
    hypotheses : (n,) lists of box dicts indexed by item; references : one list per item.

    Returns
    -------
    DataFrame with columns ``item``, ``errors`` (boxes of both − 2 · class-agreeing matches)
    and ``total`` (boxes of both).
    """
    references = references[~references.index.duplicated()]
    rows = []
    for item, boxes in hypotheses[hypotheses.index.isin(references.index)].items():
        a, b = box_array(boxes or []), box_array(references[item] or [])
        r, c, _ = match_arrays(a, b, threshold)
        classes_a = [str((boxes[k] or {}).get("class", "")) for k in r]
        classes_b = [str((references[item][k] or {}).get("class", "")) for k in c]
        agree = sum(x == y for x, y in zip(classes_a, classes_b, strict=True))
        rows.append((item, len(a) + len(b) - 2 * agree, len(a) + len(b)))
    return pd.DataFrame(rows, columns=["item", "errors", "total"]).astype({"errors": float, "total": float})


def box_pair_scores(frame: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Every answer judged by each other labeler of its item.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (list of box dicts).

    Returns
    -------
    DataFrame, two rows per pair of labelers on an item (each side judged once), with columns
    ``item``, ``labeler`` (the judged one), ``errors`` and ``total``. ``ValueError`` when no item
    has boxes from two labelers.
    """
    answers = BoxAnswers(frame)
    labeler = answers.frame["labeler"].to_numpy()
    i, j = within_item_pairs(answers.item)
    keep = labeler[i] != labeler[j]
    i, j = i[keep], j[keep]
    if len(i) == 0:
        raise ValueError("no item has boxes from two labelers: HLP is undefined")
    same = np.array([answers.compare(a, b, threshold, True)[2] for a, b in zip(i, j, strict=True)])
    both = (answers.sizes[i] + answers.sizes[j]).astype(np.float64)
    errors = both - 2 * same
    items = answers.frame["item"].to_numpy()
    return pd.DataFrame(
        {
            "item": np.concatenate([items[i], items[j]]),
            "labeler": np.concatenate([labeler[i], labeler[j]]),
            "errors": np.concatenate([errors, errors]),
            "total": np.concatenate([both, both]),
        }
    )


def box_hlp(
    frame: pd.DataFrame,
    *,
    gold: pd.Series | None = None,
    slices: pd.DataFrame | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> ScoreHLP:
    """HLP of boxes as class-aware F1 at IoU ≥ ``threshold``, per labeler, per slice and on gold.

    Parameters
    ----------
    frame : DataFrame with columns ``item``, ``labeler``, ``value`` (list of box dicts).
    gold : gold box lists indexed by item; slices : DataFrame indexed by item, a column per
        slice field.
    """
    pairs = box_pair_scores(frame, threshold)
    scored_gold = gold_scores(frame, gold, lambda hyp, ref: box_scores(hyp, ref, threshold=threshold))
    return hlp_from_scores(
        f"box F1 (IoU ≥ {threshold:g})", pairs, scored_gold, slices, n_boot=n_boot, level=level, seed=seed
    )
