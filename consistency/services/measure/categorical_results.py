"""A classes run's per-item results as columns (``publish.RESULT_COLUMNS``), built from whole
arrays: the few distinct values (class names, confidences) turned into text once each."""

import json

import numpy as np
import pandas as pd

from consistency.metrics.categorical.agreement import item_pair_agreement
from consistency.metrics.categorical.consensus import majority_from_counts, top_two
from consistency.services.measure.common import finite, plain, winner_classes


def item_results(frame, items, counts, classes, ds_result, method, quality) -> pd.DataFrame:
    """Per-item results as columns (see ``publish.RESULT_COLUMNS``), JSON columns as JSON text.

    Built from whole arrays: the few distinct values (class names, confidences) are turned
    into text once each, then gathered per item."""
    winner, share, tie = majority_from_counts(counts)
    ds_values = ds_result["value"].reindex(items).to_numpy()
    ds_confidence = ds_result["confidence"].reindex(items).to_numpy(dtype=np.float64)
    agreement = item_pair_agreement(counts).astype(np.float64)
    first, second = top_two(counts)
    skipped = frame.loc[frame["skipped"].to_numpy(), "item"].value_counts()
    names = np.asarray([*classes, ""], dtype=object)  # index -1: no class
    majority = winner_classes(winner, classes)
    share = share.astype(np.float64)
    by_method = _by_method_texts(majority, share, ds_values, ds_confidence)
    if method == "majority":
        consensus, confidence = _json_categorical(majority), share
    else:
        consensus, confidence = _json_categorical(ds_values), ds_confidence
    # The answers' consensus scored, gold items too: readers show a decided item's quality as
    # 1.0 (``selectors.labels``), so a run after a resolution may share these rows
    # (``services.measure.inputs``).
    label_quality = quality.items.reindex(items).to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "item_id": np.asarray(items, dtype=np.int64),
            "n_answers": counts.sum(axis=1).astype(np.int64),
            "n_skipped": skipped.reindex(items, fill_value=0).to_numpy(dtype=np.int64),
            # The answers' consensus: gold and resolutions are labels of their own (selectors.labels).
            "consensus": consensus,
            "method": method,
            "by_method": by_method,
            "confidence": confidence,
            "agreement": agreement,
            "disagreement": _rounded(1.0 - agreement, fill=0.0),
            "is_tie": np.asarray(tie, dtype=bool),
            "label_quality": label_quality,
            "first_class": names[first],
            "second_class": names[second],
        }
    )


def _json_categorical(values: np.ndarray) -> pd.Categorical:
    """JSON text of each value (None/NaN: missing, a SQL NULL), each distinct value encoded
    once; categorical, so a million rows hold codes, not strings."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    return pd.Categorical.from_codes(codes, [json.dumps(plain(v)) for v in uniques])


def _by_method_texts(majority, share, ds_values, ds_confidence) -> pd.Categorical:
    """``{"majority": {"value", "confidence"}, "dawid_skene": {...}}`` as JSON text per item,
    formatted once per distinct combination (answer patterns repeat across items)."""
    parts = [
        pd.factorize(pd.Series(majority, dtype=object), use_na_sentinel=True),
        pd.factorize(share, use_na_sentinel=True),
        pd.factorize(pd.Series(ds_values, dtype=object), use_na_sentinel=True),
        pd.factorize(ds_confidence, use_na_sentinel=True),
    ]
    key = np.zeros(len(share), dtype=np.int64)
    for codes, uniques in parts:
        radix = len(uniques) + 1
        if key.max(initial=0) >= (1 << 62) // radix:  # would overflow: renumber densely first
            key = pd.factorize(key)[0].astype(np.int64)
        key = key * radix + (codes + 1)
    _, first_row, inverse = np.unique(key, return_index=True, return_inverse=True)

    def pick(part, row, number: bool):
        codes, uniques = part
        value = uniques[codes[row]] if codes[row] >= 0 else None
        return finite(value) if number else plain(value)

    texts = [
        json.dumps(
            {
                "majority": {"value": pick(parts[0], r, False), "confidence": pick(parts[1], r, True)},
                "dawid_skene": {"value": pick(parts[2], r, False), "confidence": pick(parts[3], r, True)},
            }
        )
        for r in first_row.tolist()
    ]
    return pd.Categorical.from_codes(inverse.reshape(-1), texts)


def _rounded(values: np.ndarray, *, fill: float) -> np.ndarray:
    """``round(v, 6)`` per value, with Python's correctly rounded decimal rounding (as before),
    computed once per distinct value; NaN becomes ``fill``."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    rounded = np.asarray([round(float(v), 6) for v in uniques] + [fill], dtype=np.float64)
    return rounded[codes]
