"""Human-level performance (HLP): how often a labeler agrees with the other labelers, and
with gold where it exists, per labeler, class and slice; and the course's gap-to-HLP table.

Leave-one-out: each answer is compared with the majority of the *other* answers on the same
item, so a labeler is never measured against a consensus they voted in. Items where the
others tie (or no other answer exists) give no reference and are counted as excluded.
"""

import numpy as np
import pandas as pd

from consistency.metrics.dawid_skene import encode


def _interval(
    successes: np.ndarray, trials: np.ndarray, *, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap of a proportion per row (resampling its trials), seeded."""
    rng = np.random.default_rng(seed)
    low = np.full(len(trials), np.nan)
    high = np.full(len(trials), np.nan)
    ok = trials > 0
    if n_boot <= 0 or not ok.any():
        return low, high
    p = successes[ok] / trials[ok]
    draws = rng.binomial(trials[ok][:, None], p[:, None], size=(ok.sum(), n_boot)) / trials[ok][:, None]
    low[ok], high[ok] = np.percentile(draws, [2.5, 97.5], axis=1)
    return low, high


def leave_one_out(frame: pd.DataFrame) -> pd.DataFrame:
    """Per answer: the majority of the other answers on its item, and whether they agree.

    frame : columns item, labeler, value (skipped answers removed).
    returns : the frame's item, labeler, value plus ``reference`` (None when the others tie or
    there are none) and ``agrees`` (float: 1, 0 or NaN without reference).
    """
    item_codes, _, value_codes, items, _, classes = encode(frame)
    k = len(classes)
    counts = np.bincount(item_codes.astype(np.int64) * k + value_codes, minlength=len(items) * k).reshape(
        -1, k
    )
    others = counts[item_codes].copy()
    others[np.arange(len(value_codes)), value_codes] -= 1
    top = others.max(axis=1)
    unique_top = (others == top[:, None]).sum(axis=1) == 1
    has_reference = (top > 0) & unique_top
    reference_code = others.argmax(axis=1)
    reference = np.where(has_reference, np.asarray(classes, dtype=object)[reference_code], None)
    agrees = np.where(has_reference, (reference_code == value_codes).astype(float), np.nan)
    return pd.DataFrame(
        {
            "item": frame["item"].to_numpy(),
            "labeler": frame["labeler"].to_numpy(),
            "value": frame["value"].to_numpy(),
            "reference": reference,
            "agrees": agrees,
        }
    )


def _rate_table(table: pd.DataFrame, by: str, *, n_boot: int, seed: int) -> pd.DataFrame:
    grouped = table.dropna(subset=["agrees"]).groupby(by)["agrees"].agg(["sum", "count"])
    low, high = _interval(grouped["sum"].to_numpy(), grouped["count"].to_numpy(), n_boot=n_boot, seed=seed)
    return pd.DataFrame(
        {
            "n": grouped["count"].astype(int),
            "rate": grouped["sum"] / grouped["count"],
            "low": low,
            "high": high,
        },
        index=grouped.index,
    )


def two_random_labelers_agree(frame: pd.DataFrame) -> float:
    """Probability that two different labelers of the same item agree, averaged over items."""
    item_codes, _, value_codes, items, _, classes = encode(frame)
    k = len(classes)
    counts = np.bincount(item_codes.astype(np.int64) * k + value_codes, minlength=len(items) * k).reshape(
        -1, k
    )
    m = counts.sum(axis=1)
    pairable = m >= 2
    if not pairable.any():
        return float("nan")
    c = counts[pairable].astype(float)
    return float(((c * (c - 1)).sum(axis=1) / (m[pairable] * (m[pairable] - 1))).mean())


def human_level(
    frame: pd.DataFrame,
    *,
    gold: pd.Series | None = None,
    slices: pd.DataFrame | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict:
    """HLP per labeler, project, class and slice.

    frame : answers (item, labeler, value); gold : item → known answer; slices : item-indexed
    metadata frame (one column per field).
    returns : dict with ``labelers`` (DataFrame indexed by labeler: answers, loo n/rate/low/high,
    gold n/rate/low/high, top confusion), ``project`` (hlp, low, high, n, two_random_agree,
    gold_accuracy), ``per_class`` (DataFrame by reference class), ``per_slice`` ({field: DataFrame}).
    """
    loo = leave_one_out(frame)
    labelers = _rate_table(loo, "labeler", n_boot=n_boot, seed=seed)
    answers = loo.groupby("labeler").size()
    labelers = labelers.reindex(answers.index)
    labelers.insert(0, "answers", answers)
    labelers = labelers.rename(
        columns={"n": "loo_n", "rate": "loo_rate", "low": "loo_low", "high": "loo_high"}
    )

    gold_accuracy = None
    if gold is not None and len(gold):
        on_gold = loo[loo["item"].isin(gold.index)].copy()
        on_gold["agrees"] = (on_gold["value"].to_numpy() == gold.reindex(on_gold["item"]).to_numpy()).astype(
            float
        )
        gold_table = _rate_table(on_gold, "labeler", n_boot=n_boot, seed=seed + 1)
        labelers = labelers.join(gold_table.add_prefix("gold_"))
        gold_accuracy = float(on_gold["agrees"].mean()) if len(on_gold) else None

    mismatches = loo[(loo["agrees"] == 0)]
    if len(mismatches):
        pairs = mismatches.groupby(["labeler", "reference", "value"]).size().rename("n").reset_index()
        pairs = pairs.sort_values(["labeler", "n"], ascending=[True, False]).drop_duplicates("labeler")
        labelers = labelers.join(
            pairs.set_index("labeler").rename(
                columns={"reference": "confuses", "value": "answers_instead", "n": "confusions"}
            )
        )

    # Project HLP: answers-weighted mean of the leave-one-out agreement; interval over items.
    scored = loo.dropna(subset=["agrees"])
    per_item = scored.groupby("item")["agrees"].agg(["sum", "count"])
    hlp = float(per_item["sum"].sum() / per_item["count"].sum()) if len(per_item) else float("nan")
    low, high = _item_bootstrap(per_item, n_boot=n_boot, seed=seed)
    project = {
        "hlp": hlp,
        "low": low,
        "high": high,
        "n": int(per_item["count"].sum()),
        "excluded_answers": int(loo["agrees"].isna().sum()),
        "two_random_agree": two_random_labelers_agree(frame),
        "gold_accuracy": gold_accuracy,
    }
    per_class = _rate_table(scored, "reference", n_boot=n_boot, seed=seed + 2)
    per_slice = {}
    if slices is not None and not slices.empty:
        for field in slices.columns:
            tagged = scored.assign(slice=slices[field].reindex(scored["item"]).to_numpy()).dropna(
                subset=["slice"]
            )
            if len(tagged):
                per_slice[str(field)] = _rate_table(tagged, "slice", n_boot=n_boot, seed=seed + 3)
    return {"labelers": labelers, "project": project, "per_class": per_class, "per_slice": per_slice}


def _item_bootstrap(per_item: pd.DataFrame, *, n_boot: int, seed: int) -> tuple[float, float]:
    if n_boot <= 0 or len(per_item) < 2:
        return (float("nan"), float("nan"))
    patterns, multiplicity = np.unique(per_item[["sum", "count"]].to_numpy(), axis=0, return_counts=True)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(per_item), multiplicity / multiplicity.sum(), size=n_boot)
    rates = (draws @ patterns[:, 0]) / (draws @ patterns[:, 1])
    low, high = np.percentile(rates, [2.5, 97.5])
    return float(low), float(high)


def gap_to_hlp(
    predictions: pd.Series,
    reference: pd.Series,
    hlp_by_slice: pd.Series,
    slice_of_item: pd.Series,
) -> pd.DataFrame:
    """The course's prioritization table, one row per slice value, sorted by potential.

    predictions : item → model answer; reference : item → consensus or gold;
    hlp_by_slice : slice value → HLP; slice_of_item : item → slice value.
    returns : DataFrame (slice, items, model_accuracy, hlp, gap, share, potential) where
    gap = max(hlp − model accuracy, 0) and potential = gap × share of the data.
    """
    scored = pd.DataFrame({"prediction": predictions, "reference": reference}).dropna(subset=["reference"])
    scored = scored.dropna(subset=["prediction"])
    if scored.empty:
        raise ValueError("no item has both a prediction and a reference answer")
    scored["slice"] = slice_of_item.reindex(scored.index).fillna("(none)").astype(str)
    scored["correct"] = (scored["prediction"].astype(str) == scored["reference"].astype(str)).astype(float)
    table = scored.groupby("slice")["correct"].agg(items="count", model_accuracy="mean")
    table["hlp"] = hlp_by_slice.reindex(table.index)
    table["gap"] = (table["hlp"] - table["model_accuracy"]).clip(lower=0)
    table["share"] = table["items"] / table["items"].sum()
    table["potential"] = table["gap"] * table["share"]
    return (
        table.reset_index()
        .sort_values("potential", ascending=False, na_position="last")
        .reset_index(drop=True)
    )
