"""Several classes per item: agreement per class (chosen / not chosen, binary alpha) and an
overall figure.

Documented choice: the overall alpha is the mean of the per-class binary alphas weighted by each
class's support (how often it was chosen). It reads like the nominal alpha of a single-class
project, stays defined when items carry different numbers of classes, and shows which classes
drive disagreement. Consensus keeps the classes chosen by more than half of an item's labelers.
"""

import numpy as np
import pandas as pd

from consistency.metrics.coincidence import alpha


def _indicator_counts(frame: pd.DataFrame, classes: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(items, chosen (items × classes), answers per item)."""
    if frame.empty:
        raise ValueError("no answers: the annotations frame is empty")
    index = {c: i for i, c in enumerate(classes)}
    items, item_codes = np.unique(frame["item"].to_numpy(), return_inverse=True)
    chosen = np.zeros((len(items), len(classes)), dtype=np.int64)
    for row, values in zip(item_codes, frame["value"], strict=True):  # one pass; lists are short
        for value in values or []:
            if value not in index:
                raise ValueError(f"value outside the schema: {value!r}")
            chosen[row, index[value]] += 1
    answers = np.bincount(item_codes, minlength=len(items))
    return items, chosen, answers


def multilabel_agreement(frame: pd.DataFrame, classes: list[str]) -> dict:
    """Per-class binary alpha, support-weighted overall alpha, and per-item agreement.

    frame : columns item, labeler, value (value = list of class names).
    """
    items, chosen, answers = _indicator_counts(frame, classes)
    per_class = []
    for c, name in enumerate(classes):
        binary = np.stack([chosen[:, c], answers - chosen[:, c]], axis=1)
        try:
            value = alpha(binary)
        except ValueError:
            value = float("nan")
        per_class.append({"class": name, "alpha": value, "support": int(chosen[:, c].sum())})
    weights = np.array([r["support"] for r in per_class], dtype=float)
    alphas = np.array([r["alpha"] for r in per_class], dtype=float)
    ok = np.isfinite(alphas) & (weights > 0)
    overall = float(np.average(alphas[ok], weights=weights[ok])) if ok.any() else float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        # per item: share of (labeler pair, class) decisions that agree
        agree = (chosen * (chosen - 1) + (answers[:, None] - chosen) * (answers[:, None] - chosen - 1)).sum(
            axis=1
        )
        item_agreement = np.where(answers >= 2, agree / (len(classes) * answers * (answers - 1)), np.nan)
    consensus = [
        [classes[c] for c in np.nonzero(row > n / 2)[0]] for row, n in zip(chosen, answers, strict=True)
    ]
    return {
        "alpha": overall,
        "per_class": per_class,
        "items": items,
        "item_agreement": item_agreement,
        "consensus": consensus,
        "answers": answers,
        "items_measured": int((answers >= 2).sum()),
    }
