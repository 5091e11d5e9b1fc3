"""Human-level performance (HLP): how well people agree with each other, and with gold.

Leave-one-out agreement. Each answer is compared with the majority vote of the *other
labelers'* answers on the same item: every answer the same labeler gave on that item is
removed first (a labeler who rated an item three times is not their own reference). When the
others tie the answer has no reference and is counted in ``loo_ties``; when nobody else
answered it is counted in ``loo_alone``; both are excluded from the rates.

Project HLP is the mean of the labelers' leave-one-out agreement weighted by their scored
answers (equivalently: scored answers that agree / scored answers); ``hlp_unweighted`` is the
plain mean over labelers. "Two random labelers agree" is, per item, the probability that two
distinct labelers picked at random (each contributing one of their answers at random) give
the same answer, averaged over items with at least two labelers.

Intervals are seeded percentile bootstraps at ``level`` (default 95%): per labeler over the
labeler's scored answers (binomial resampling, exact for a proportion); for the project,
classes and slices over items (a cluster bootstrap: an item's answers move together).
``n_boot=0`` skips them (NaN).

Per class: leave-one-out rates grouped by the reference class (the others' consensus — never
the answer's own vote), gold accuracy grouped by the gold class, two-random agreement grouped
by the item's majority-vote class (tied items left out). Per slice: the same numbers for the
items of each slice value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from consistency.metrics.arrays import AnyArray, FloatArray, ObjectArray, row_argmax, row_max, row_sum
from consistency.metrics.categorical.hlp_loo import (
    ALONE,
    SCORED,
    STATUS,
    TIE,
    LeaveOneOut,
    StatusArray,
    item_pair_agreement,
    leave_one_out_codes,
    pair_counts,
)
from consistency.metrics.categorical.hlp_rates import ScoredAnswers, per_slice, rates, rates_by
from consistency.metrics.frames import Encoded, as_gold, encode, slice_frame
from consistency.metrics.stats.bootstrap import (
    DEFAULT_LEVEL,
    DEFAULT_N_BOOT,
    binomial_interval,
    check_bootstrap,
)


def _loo_frame(
    frame: pd.DataFrame, reference: ObjectArray, agrees: FloatArray, status: StatusArray
) -> pd.DataFrame:
    """The :func:`leave_one_out` table of ``frame``'s answers, from their reference values
    (``Encoded.class_values``), agrees and status codes."""
    return pd.DataFrame(
        {
            "item": frame["item"].to_numpy(copy=True),  # copy=False below: nothing shared
            "labeler": frame["labeler"].to_numpy(copy=True),
            "value": _objects(_values(frame["value"])),
            "reference": _objects(reference),
            "agrees": agrees,
            "status": _objects(STATUS[status]),  # the three strings shared, not one per answer
        },
        copy=False,  # fresh arrays: neither copied nor consolidated (a transient copy of each)
    )


def _objects(values: AnyArray) -> pd.Series:
    """An object column as it is: with its dtype given, pandas skips inferring a type from
    every value (temporaries of several times the column's size on millions of answers)."""
    return pd.Series(values, dtype=object, copy=False)


def _values(values: pd.Series) -> AnyArray:
    """The answers' values as their own array; categorical ones as the Python values (an int
    category as an int, not a numpy integer), as an object column holds them."""
    out: AnyArray = (
        np.asarray(values.astype(object))
        if isinstance(values.dtype, pd.CategoricalDtype)
        else values.to_numpy(copy=True)
    )
    return out


def leave_one_out(frame: pd.DataFrame) -> pd.DataFrame:
    """Each answer against the majority vote of the other labelers on its item.

    Parameters
    ----------
    frame : columns item, labeler, value (one row per answer; at least two labelers).

    Returns
    -------
    DataFrame, one row per answer in ``frame`` order (RangeIndex): item, labeler, value,
    ``reference`` (the others' majority, None without one), ``agrees`` (1.0 / 0.0, NaN
    without a reference) and ``status``: "scored", "tie" (the others tie) or "alone" (no
    other labeler answered the item).
    """
    encoded = encode(frame, min_labelers=2, compact=True)
    loo = leave_one_out_codes(encoded)
    agrees = loo.agrees_float(encoded.value, slice(None))
    return _loo_frame(frame, encoded.class_values(loo.reference), agrees, loo.status)


def two_random_labelers_agree(frame: pd.DataFrame) -> float:
    """Probability that two distinct random labelers of an item agree, averaged over items.

    frame : columns item, labeler, value. Items with one labeler are left out; NaN when no
    item has two labelers.
    """
    encoded = encode(frame, compact=True)
    per_item = pd.Series(item_pair_agreement(encoded, pair_counts(encoded)))
    return float(per_item.mean()) if per_item.notna().any() else float("nan")


@dataclass(frozen=True)
class HLPReport:
    """Result of :func:`human_level_performance`.

    labelers : DataFrame indexed by labeler — n_answers, loo_n, loo_agreement, loo_low,
        loo_high, loo_ties, loo_alone, gold_n, gold_accuracy, gold_low, gold_high.
    project : Series — hlp, hlp_low, hlp_high, hlp_unweighted, n_labelers, n_items, loo_n,
        loo_ties, loo_alone, two_random_agree, gold_n, gold_accuracy, gold_low, gold_high.
    per_class : DataFrame indexed by class — loo_n, loo_agreement, loo_low, loo_high,
        gold_n, gold_accuracy, n_items, two_random_agree.
    per_slice : DataFrame indexed by (field, slice) — n_items, n_answers, loo_n, hlp,
        hlp_low, hlp_high, two_random_agree, gold_n, gold_accuracy; empty without slices.
    confusions : DataFrame with one row per (labeler, reference, value) among the scored
        answers that disagree with their reference — labeler, reference (the others'
        majority), value (the answer), n (> 0) — in code order: a few rows per labeler,
        where a table of every answer took some fifty bytes an answer.
    """

    labelers: pd.DataFrame
    project: pd.Series
    per_class: pd.DataFrame
    per_slice: pd.DataFrame
    confusions: pd.DataFrame


def human_level_performance(
    frame: pd.DataFrame,
    *,
    gold: pd.Series | None = None,
    slices: pd.Series | pd.DataFrame | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
) -> HLPReport:
    """HLP per labeler, for the project, per class and per slice (module docstring).

    Parameters
    ----------
    frame : columns item, labeler, value (categorical answers; at least two labelers).
    gold : Series item → known answer; gold accuracy is measured where it exists.
    slices : Series item → slice value, or an item-indexed metadata frame (one column per
        field). Items without a value fall in the slice "(none)".
    n_boot : bootstrap resamples (0: no intervals); seed : makes them reproducible;
    level : interval coverage.

    Returns
    -------
    HLPReport
    """
    check_bootstrap(n_boot, level)
    rng = np.random.default_rng(seed)
    # One encoding for every figure: the answers as narrow integer codes, grouped and counted
    # with np.bincount instead of pandas group-bys over the answers' values.
    encoded = encode(frame, min_labelers=2, compact=True)
    loo = leave_one_out_codes(encoded)
    pair_agree = pd.Series(
        loo.pair_agree, index=pd.Index(encoded.items, name="item"), name="two_random_agree"
    )
    gold = as_gold(gold)
    status = loo.status
    scored = status == SCORED  # masks, a byte an answer (positions would take eight)
    agree = loo.agrees(encoded.value)  # only scored answers have a reference to agree with
    n_scored = int(scored.sum())

    # Per labeler. Sums of ones: the counts of agreeing answers, as floats.
    n_labelers = encoded.n_labelers
    labelers = pd.DataFrame(
        {"n_answers": np.bincount(encoded.labeler, minlength=n_labelers)},
        index=pd.Index(encoded.labelers, name="labeler"),
    )
    labelers["loo_n"] = np.bincount(encoded.labeler[scored], minlength=n_labelers)
    agree_sum = pd.Series(
        np.bincount(encoded.labeler[agree], minlength=n_labelers).astype(np.float64), index=labelers.index
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        labelers["loo_agreement"] = agree_sum / labelers["loo_n"].replace(0, np.nan)
    labelers["loo_low"], labelers["loo_high"] = binomial_interval(
        agree_sum.to_numpy(), labelers["loo_n"].to_numpy(), n_boot=n_boot, level=level, rng=rng
    )
    labelers["loo_ties"] = np.bincount(encoded.labeler[status == TIE], minlength=n_labelers)
    labelers["loo_alone"] = np.bincount(encoded.labeler[status == ALONE], minlength=n_labelers)

    on_gold = _on_gold_rows(frame, encoded, loo, gold)
    on_gold["gold"] = gold.reindex(on_gold["item"]).to_numpy(dtype=object)
    on_gold["correct"] = (on_gold["value"].to_numpy(dtype=object) == on_gold["gold"].to_numpy()).astype(float)
    gold_sum = on_gold.groupby("labeler")["correct"].sum().reindex(labelers.index, fill_value=0.0)
    labelers["gold_n"] = on_gold.groupby("labeler").size().reindex(labelers.index, fill_value=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        labelers["gold_accuracy"] = gold_sum / labelers["gold_n"].replace(0, np.nan)
    labelers["gold_low"], labelers["gold_high"] = binomial_interval(
        gold_sum.to_numpy(), labelers["gold_n"].to_numpy(), n_boot=n_boot, level=level, rng=rng
    )

    # Project.
    scored_item = encoded.item[scored]
    project_rates = rates(
        np.asarray(["all"], dtype=object),
        np.zeros(n_scored, dtype=np.int8),
        scored_item,
        agree[scored],
        "all",
        n_boot=n_boot,
        level=level,
        rng=rng,
    )
    gold_rates = rates_by(on_gold.assign(all="all"), "all", "correct", n_boot=n_boot, level=level, rng=rng)
    with_scores = labelers["loo_n"] > 0
    project = pd.Series(
        {
            "hlp": project_rates["rate"].get("all", np.nan),
            "hlp_low": project_rates["low"].get("all", np.nan),
            "hlp_high": project_rates["high"].get("all", np.nan),
            "hlp_unweighted": labelers.loc[with_scores, "loo_agreement"].mean()
            if with_scores.any()
            else np.nan,
            "n_labelers": len(labelers),
            "n_items": encoded.n_items,
            "loo_n": n_scored,
            "loo_ties": int((status == TIE).sum()),
            "loo_alone": int((status == ALONE).sum()),
            "two_random_agree": float(pair_agree.mean()) if pair_agree.notna().any() else np.nan,
            "gold_n": len(on_gold),
            "gold_accuracy": gold_rates["rate"].get("all", np.nan),
            "gold_low": gold_rates["low"].get("all", np.nan),
            "gold_high": gold_rates["high"].get("all", np.nan),
        },
        name="project",
        dtype=object,
    )

    # Per class.
    loo_by_class = rates(
        np.asarray(encoded.classes, dtype=object),
        loo.reference[scored],
        scored_item,
        agree[scored],
        "reference",
        n_boot=n_boot,
        level=level,
        rng=rng,
    )
    del scored_item
    gold_by_class = rates_by(on_gold, "gold", "correct", n_boot=0, level=level, rng=rng)
    item_class = _item_majority(encoded)
    pairs_by_class = pair_agree.groupby(item_class.reindex(pair_agree.index)).agg(["size", "mean"])
    per_class = pd.concat(
        [
            loo_by_class.rename(
                columns={"n": "loo_n", "rate": "loo_agreement", "low": "loo_low", "high": "loo_high"}
            ),
            gold_by_class[["n", "rate"]].rename(columns={"n": "gold_n", "rate": "gold_accuracy"}),
            pairs_by_class.rename(columns={"size": "n_items", "mean": "two_random_agree"}),
        ],
        axis=1,
    )
    per_class.index.name = "class"
    for column in ("loo_n", "gold_n", "n_items"):
        per_class[column] = per_class[column].fillna(0).astype(np.int64)

    answers = ScoredAnswers(encoded, scored, agree)
    by_slice = per_slice(answers, on_gold, pair_agree, slice_frame(slices), n_boot, level, rng)
    del answers
    confusions = _confusions(encoded, loo.reference, scored & ~agree)
    return HLPReport(
        labelers=labelers, project=project, per_class=per_class, per_slice=by_slice, confusions=confusions
    )


def _confusions(encoded: Encoded, reference: AnyArray, wrong: AnyArray) -> pd.DataFrame:
    """:attr:`HLPReport.confusions` of the answers ``wrong`` (n_answers,) bool: counted with one
    ``np.bincount`` over (labeler, reference, value) codes."""
    k, n_labelers = encoded.n_classes, encoded.n_labelers
    cell = encoded.labeler[wrong].astype(np.int64) * k + reference[wrong]
    cell *= k
    cell += encoded.value[wrong]
    counts = np.bincount(cell, minlength=n_labelers * k * k)
    found = np.flatnonzero(counts)
    labeler, rest = np.divmod(found, k * k)
    return pd.DataFrame(
        {
            "labeler": encoded.labelers.take(labeler),
            "reference": _objects(encoded.class_values(rest // k)),
            "value": _objects(encoded.class_values(rest % k)),
            "n": counts[found],
        }
    )


def _on_gold_rows(frame: pd.DataFrame, encoded: Encoded, loo: LeaveOneOut, gold: pd.Series) -> pd.DataFrame:
    """The :func:`leave_one_out` rows of the gold items (index: their row positions), built
    from those rows alone."""
    rows = np.flatnonzero(np.asarray(encoded.items.isin(gold.index))[encoded.item])
    on_gold = _loo_frame(
        frame.iloc[rows],
        encoded.class_values(loo.reference[rows]),
        loo.agrees_float(encoded.value, rows),
        loo.status[rows],
    )
    on_gold.index = pd.Index(rows)
    return on_gold


def _item_majority(encoded: Encoded) -> pd.Series:
    """Item → majority-vote class over all answers (ties left out)."""
    counts = encoded.counts()
    top = row_max(counts)
    unique = row_sum(counts == top[:, None]) == 1
    winner = row_argmax(counts)[unique]
    return pd.Series(
        encoded.classes.take(winner).to_numpy(), index=pd.Index(encoded.items[unique], name="item")
    )
