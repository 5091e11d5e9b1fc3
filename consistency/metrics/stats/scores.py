"""Answers scored as errors over a total, and human-level performance (HLP) from such scores:
each labeler judged by the others, the course's question for answers that are not simply right
or wrong.

A *scored row* judges one answer against a reference (another labeler's answer, or gold):
``errors`` (word edits, unmatched boxes, ...) over ``total`` (reference words, boxes of both,
...). A group's score is 1 − Σ errors / Σ total, clipped to [0, 1] (a WER above 1 would make it
negative). Intervals are seeded percentile bootstraps over items (an item's rows move together,
:func:`consistency.metrics.stats.bootstrap.cluster_interval`). Transcripts
(:mod:`consistency.metrics.transcripts.hlp`) and boxes (:mod:`consistency.metrics.boxes.hlp`)
produce the rows; this module turns them into the figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from consistency.metrics.frames import NO_SLICE
from consistency.metrics.stats.bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_N_BOOT,
    check_bootstrap,
    cluster_interval,
)

#: ``score(hypotheses, references) -> DataFrame item, errors, total`` (see :func:`gold_scores`).
Scorer = Callable[[pd.Series, pd.Series], pd.DataFrame]


@dataclass(frozen=True)
class ScoreHLP:
    """HLP from scored rows (:func:`hlp_from_scores`).

    measure : what the score is ("word accuracy (1 − WER)" or "box F1 (IoU ≥ 0.5)").
    project : Series — hlp, low, high, n (scored answers), items, gold_n, gold_accuracy.
    labelers : DataFrame indexed by labeler — n, rate, low, high, gold_n, gold_rate.
    per_slice : {field: DataFrame indexed by slice value — n, rate, low, high}.
    """

    measure: str
    project: pd.Series
    labelers: pd.DataFrame
    per_slice: dict[str, pd.DataFrame]


def score(errors: float, total: float) -> float:
    """1 − errors / total clipped to [0, 1]; NaN without a total."""
    return float(min(1.0, max(0.0, 1.0 - errors / total))) if total > 0 else float("nan")


def score_rates(
    scores: pd.DataFrame,
    by: pd.Series | None = None,
    *,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """Score per group with an item-cluster bootstrap interval.

    Parameters
    ----------
    scores : DataFrame (n rows) with columns ``item``, ``errors``, ``total`` (and any others).
    by : (n,) group of each row, aligned with ``scores``; None = one group "all".

    Returns
    -------
    DataFrame indexed by group with columns ``n`` (rows), ``rate``, ``low``, ``high``.
    """
    check_bootstrap(n_boot, level)
    rng = rng if rng is not None else np.random.default_rng(0)
    group = pd.Series("all", index=scores.index) if by is None else pd.Series(by, index=scores.index)
    per_item = (
        scores.assign(group=group.to_numpy()).groupby(["group", "item"], sort=True)[["errors", "total"]].sum()
    )
    sizes = group.value_counts()  # rows per group, counted once
    rows = []
    for name, part in per_item.groupby(level=0, sort=True):
        errors = part["errors"].to_numpy(dtype=np.float64)
        total = part["total"].to_numpy(dtype=np.float64)
        lo, hi = cluster_interval(errors, total, n_boot=n_boot, level=level, rng=rng)
        n = int(sizes[name])
        rows.append((name, n, score(errors.sum(), total.sum()), score(hi, 1.0), score(lo, 1.0)))
    out = pd.DataFrame(rows, columns=["group", "n", "rate", "low", "high"]).set_index("group")
    return out.astype({"n": np.int64, "rate": np.float64, "low": np.float64, "high": np.float64})


def answer_scores(pairs: pd.DataFrame) -> pd.DataFrame:
    """Scored rows summed per judged answer.

    pairs : DataFrame with columns ``item``, ``labeler`` (the judged answer's), ``errors``,
        ``total``, e.g. :func:`consistency.metrics.transcripts.hlp.transcript_pair_scores`.

    Returns
    -------
    DataFrame indexed by (item, labeler) with ``errors`` and ``total``.
    """
    return pairs.groupby(["item", "labeler"])[["errors", "total"]].sum()


def gold_scores(frame: pd.DataFrame, gold: pd.Series | None, scorer: Scorer) -> pd.DataFrame | None:
    """Each answer on a gold item scored against the gold answer (``scorer(hyp, ref)``), with its
    labeler; None without gold.

    frame : DataFrame with columns ``item``, ``labeler``, ``value``; gold : Series item → answer.
    """
    if gold is None or not len(gold):
        return None
    answers = frame.set_index("item")
    on_gold = answers.index.isin(gold.index)
    scored: pd.DataFrame = scorer(answers["value"], gold).assign(
        labeler=answers["labeler"].to_numpy()[on_gold]
    )
    return scored


def hlp_from_scores(
    measure: str,
    pairs: pd.DataFrame,
    scored_gold: pd.DataFrame | None,
    slices: pd.DataFrame | None,
    *,
    n_boot: int,
    level: float,
    seed: int,
) -> ScoreHLP:
    """HLP for the project, per labeler, per slice and on gold.

    Parameters
    ----------
    measure : the name of the score.
    pairs : scored rows of answers judged by other labelers: ``item``, ``labeler``, ``errors``,
        ``total`` (the judged answer's labeler).
    scored_gold : the same against gold (:func:`gold_scores`), or None.
    slices : DataFrame indexed by item, a column per slice field, or None.
    n_boot, level, seed : the item-cluster bootstrap.
    """
    rng = np.random.default_rng(seed)
    overall = score_rates(pairs, n_boot=n_boot, level=level, rng=rng).iloc[0]
    labelers = score_rates(pairs, pairs["labeler"], n_boot=n_boot, level=level, rng=rng)
    labelers.index.name = "labeler"
    gold_n, gold_rate = pd.Series(0, index=labelers.index), pd.Series(np.nan, index=labelers.index)
    project_gold = (0, float("nan"))
    if scored_gold is not None and len(scored_gold):
        by_labeler = scored_gold.groupby("labeler")[["errors", "total"]].sum()
        gold_n = scored_gold.groupby("labeler").size().reindex(labelers.index, fill_value=0)
        gold_rate = pd.Series(
            [score(e, t) for e, t in by_labeler.to_numpy()], index=by_labeler.index
        ).reindex(labelers.index)
        project_gold = (len(scored_gold), score(scored_gold["errors"].sum(), scored_gold["total"].sum()))
    labelers = labelers.assign(gold_n=gold_n.astype(np.int64), gold_rate=gold_rate)
    per_slice = {}
    for field, tags in slices.items() if slices is not None else ():
        value = pairs["item"].map(tags).astype(object).where(lambda v: v.notna(), NO_SLICE).astype(str)
        per_slice[str(field)] = score_rates(pairs, value, n_boot=n_boot, level=level, rng=rng)
    project = pd.Series(
        {
            "hlp": overall["rate"],
            "low": overall["low"],
            "high": overall["high"],
            "n": int(overall["n"]),
            "items": int(pairs["item"].nunique()),
            "gold_n": project_gold[0],
            "gold_accuracy": project_gold[1],
        }
    )
    return ScoreHLP(measure=measure, project=project, labelers=labelers, per_slice=per_slice)
