"""Rates of HLP by group (project, class, slice) with item-cluster bootstrap intervals, from
integer codes (:mod:`consistency.metrics.categorical.hlp`).

The groups are counted with ``np.bincount`` over (group, item) codes instead of a pandas
group-by over the answers' values; groups come out, and draw their intervals, in the order
``DataFrame.groupby`` gives them, so the figures are the group-by's, seed for seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from consistency.metrics.arrays import AnyArray, BoolArray, FloatArray
from consistency.metrics.frames import NO_SLICE, Encoded, key_codes
from consistency.metrics.stats.bootstrap import cluster_interval


def rates(
    labels: AnyArray,
    group: AnyArray,
    item: AnyArray,
    value: AnyArray,
    by: str,
    *,
    n_boot: int,
    level: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Rate of ``value`` (0/1) per group with an item-cluster bootstrap interval.

    labels : (n_labels,) the groups' values; group : (n,) int codes into ``labels`` (-1: in no
    group); item : (n,) int item codes (non-negative); value : (n,) 0/1 per scored answer
    (bool or float).
    returns : DataFrame indexed by group (named ``by``, sorted as ``groupby`` sorts, only the
    groups with answers): n, rate, low, high. The groups draw their intervals in that order.
    """
    rank, sorted_labels = pd.factorize(pd.Index(labels), sort=True)  # groupby's order of the labels
    n_items = int(item.max()) + 1 if len(item) else 1
    # The (group, item) key is built in int32 when every key fits (half the memory: these keys
    # and their codes are the run's memory peak), else in int64, whatever the codes' width.
    width = np.int32 if len(sorted_labels) * n_items < 2**31 else np.int64
    rank = np.append(np.asarray(rank, dtype=width), -1)  # group -1 stays -1
    key = rank[group]
    keep = key >= 0
    if not keep.all():  # usually every answer has a group: no copy of the three arrays then
        key, item, value = key[keep], item[keep], value[keep]
    del keep
    # One (group, item) cluster per distinct key: its answers' sum and count. The clusters'
    # order does not matter (below): numbered in key order, without a hash of every key.
    key *= n_items  # in place: no temporaries of every answer's key
    key += item
    key_code, keys = key_codes(key, len(sorted_labels) * n_items)
    del key
    sums: FloatArray = np.bincount(key_code, weights=value, minlength=len(keys)).astype(
        np.float64, copy=False
    )
    counts = np.bincount(key_code, minlength=len(keys)).astype(np.float64)
    key_group = np.asarray(keys, dtype=np.int64) // n_items
    order = np.argsort(key_group, kind="stable")
    bounds = np.searchsorted(key_group[order], np.arange(len(sorted_labels) + 1))
    rows = []
    for g, label in enumerate(sorted_labels):
        part = order[bounds[g] : bounds[g + 1]]
        if len(part) == 0:
            continue
        # The clusters' order does not matter: the interval draws from their sorted patterns.
        part_sums, part_counts = sums[part], counts[part]
        low, high = cluster_interval(part_sums, part_counts, n_boot=n_boot, level=level, rng=rng)
        rows.append((label, int(part_counts.sum()), part_sums.sum() / part_counts.sum(), low, high))
    out = pd.DataFrame(rows, columns=[by, "n", "rate", "low", "high"]).set_index(by)
    return out.astype({"n": np.int64, "rate": np.float64, "low": np.float64, "high": np.float64})


def rates_by(
    table: pd.DataFrame, by: str, value: str, *, n_boot: int, level: float, rng: np.random.Generator
) -> pd.DataFrame:
    """:func:`rates` of a table with one row per scored answer: columns ``by``, item, ``value``."""
    group, labels = pd.factorize(table[by])
    item, _ = pd.factorize(table["item"])
    return rates(
        labels,
        np.asarray(group, dtype=np.int64),
        np.asarray(item, dtype=np.int64),
        table[value].to_numpy(dtype=np.float64),
        by,
        n_boot=n_boot,
        level=level,
        rng=rng,
    )


@dataclass(frozen=True)
class ScoredAnswers:
    """The encoded answers with a mask of the scored ones (n_answers,) and ``agrees`` (n_answers,
    bool: the answer equals its reference; only scored answers have one)."""

    encoded: Encoded
    rows: BoolArray
    agrees: BoolArray


def per_slice(
    answers: ScoredAnswers,
    on_gold: pd.DataFrame,
    pair_agree: pd.Series,
    slices: pd.DataFrame | None,
    n_boot: int,
    level: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    columns = [
        "n_items",
        "n_answers",
        "loo_n",
        "hlp",
        "hlp_low",
        "hlp_high",
        "two_random_agree",
        "gold_n",
        "gold_accuracy",
    ]
    if slices is None or slices.shape[1] == 0:
        return pd.DataFrame(columns=columns, index=pd.MultiIndex.from_tuples([], names=["field", "slice"]))
    if slices.index.has_duplicates:
        raise ValueError("slices must have one row per item")
    encoded, scored = answers.encoded, answers.rows
    parts = []
    for field in slices.columns:
        tag = slices[field].astype(object).where(slices[field].notna(), NO_SLICE)
        # Each item's slice value, once per item; answers take their item's.
        item_tags = tag.reindex(encoded.items).fillna(NO_SLICE)
        item_code, labels = pd.factorize(item_tags.to_numpy())
        item_code = np.asarray(item_code, dtype=np.int32 if len(labels) < 2**31 else np.int64)
        answer_code = item_code[encoded.item]
        slice_rates = rates(
            labels,
            answer_code[scored],
            encoded.item[scored],
            answers.agrees[scored],
            "slice",
            n_boot=n_boot,
            level=level,
            rng=rng,
        )
        gold_tags = tag.reindex(on_gold["item"]).fillna(NO_SLICE).to_numpy()
        gold_rates = rates_by(
            on_gold.assign(slice=gold_tags), "slice", "correct", n_boot=0, level=level, rng=rng
        )
        items = pd.DataFrame({"slice": item_tags.to_numpy(), "agree": pair_agree.to_numpy()})
        n_answers = pd.Series(np.bincount(answer_code, minlength=len(labels)), index=labels)
        part = pd.DataFrame(
            {
                "n_items": items.groupby("slice").size(),
                "n_answers": n_answers[n_answers > 0],
                "loo_n": slice_rates["n"],
                "hlp": slice_rates["rate"],
                "hlp_low": slice_rates["low"],
                "hlp_high": slice_rates["high"],
                "two_random_agree": items.groupby("slice")["agree"].mean(),
                "gold_n": gold_rates["n"],
                "gold_accuracy": gold_rates["rate"],
            }
        )
        for column in ("n_items", "n_answers", "loo_n", "gold_n"):
            part[column] = part[column].fillna(0).astype(np.int64)
        part.index = pd.MultiIndex.from_product([[field], part.index], names=["field", "slice"])
        parts.append(part[columns])
    return pd.concat(parts)
