"""Anchoring on a model's suggestion: agreement of answers given with and without it.

With pre-labels on, most items are shown with the model's answer pre-filled and a random
held-out share without it. If people agree with the model much more when they see it than when
they don't, while agreeing less with each other, they copy the model instead of judging the
item. Both arms are scored the same way; the difference (shown − held out) gets a seeded
percentile bootstrap interval, resampling answers within each arm (the arms are independent
random draws of (item, labeler) pairs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from consistency.metrics.arrays import FloatArray

ARMS = ("shown", "held_out")
_CHUNK = 4_000_000  # resampled rows per chunk (memory bound)


def _rate(errors: FloatArray, total: FloatArray) -> float:
    denominator = total.sum()
    return float(np.clip(1.0 - errors.sum() / denominator, 0.0, 1.0)) if denominator > 0 else float("nan")


def _boot_rates(errors: FloatArray, total: FloatArray, n_boot: int, rng: np.random.Generator) -> FloatArray:
    """(n_boot,) rates of resamples of the rows (with replacement); NaN where a resample has no total."""
    n = len(errors)
    if n == 0:
        return np.full(n_boot, np.nan)
    out: FloatArray = np.empty(n_boot)
    step = max(1, _CHUNK // n)
    for start in range(0, n_boot, step):
        size = min(step, n_boot - start)
        picks = rng.integers(0, n, size=(size, n))
        e, t = errors[picks].sum(axis=1), total[picks].sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[start : start + size] = np.where(t > 0, np.clip(1.0 - e / t, 0.0, 1.0), np.nan)
    return out


def anchoring(
    scores: pd.DataFrame, *, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """Agreement with the model and with the other labelers, per arm, and their difference.

    Parameters
    ----------
    scores : one row per answer, columns ``arm`` ("shown" or "held_out"), ``model_errors`` and
        ``model_total`` (the answer against the model's suggestion: 0/1 and 1 for a class, word
        edits and reference words for a transcript, unmatched boxes and boxes of both for
        boxes), ``others_errors`` and ``others_total`` (the answer against the other labelers
        of its item; NaN when it has no reference there, e.g. nobody else answered).
    n_boot, level, seed : the bootstrap of the difference (``n_boot=0``: no interval).

    Returns
    -------
    dict with, for each arm, ``{"n", "with_model", "with_others", "n_others"}`` (rates in
    [0, 1], NaN without data), and ``"difference"``: ``{"with_model": [estimate, low, high],
    "with_others": [...]}`` as shown − held out.
    """
    missing = {"arm", "model_errors", "model_total", "others_errors", "others_total"} - set(scores.columns)
    if missing:
        raise ValueError(f"scores lacks the columns {sorted(missing)}")
    unknown = set(scores["arm"].unique()) - set(ARMS)
    if unknown:
        raise ValueError(f"unknown arm(s) {sorted(map(str, unknown))}; expected {ARMS}")
    if int(n_boot) != n_boot or n_boot < 0 or not 0 < level < 1:
        raise ValueError("n_boot must be a non-negative integer and level in (0, 1)")
    rng = np.random.default_rng(seed)
    result: dict[str, dict[str, Any]] = {}
    boots: dict[tuple[str, str], FloatArray] = {}
    for arm in ARMS:
        part = scores[scores["arm"] == arm]
        others = part.dropna(subset=["others_errors", "others_total"])
        columns = {
            "with_model": (part["model_errors"], part["model_total"]),
            "with_others": (others["others_errors"], others["others_total"]),
        }
        result[arm] = {"n": len(part), "n_others": len(others)}
        for name, (errors, total) in columns.items():
            e, t = errors.to_numpy(dtype=np.float64), total.to_numpy(dtype=np.float64)
            result[arm][name] = _rate(e, t)
            if n_boot:
                boots[(arm, name)] = _boot_rates(e, t, n_boot, rng)
    tail = (1 - level) / 2 * 100
    result["difference"] = {}
    for name in ("with_model", "with_others"):
        estimate = result["shown"][name] - result["held_out"][name]
        low = high = float("nan")
        if n_boot and np.isfinite(estimate):
            diff = boots[("shown", name)] - boots[("held_out", name)]
            diff = diff[np.isfinite(diff)]
            if len(diff):
                low, high = (float(v) for v in np.percentile(diff, [tail, 100 - tail]))
        result["difference"][name] = [estimate, low, high]
    return result
