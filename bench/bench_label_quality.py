"""Likely-wrong ranking on real crowd data: how many truly wrong consensus labels the top of the
ranking finds, and agreement with cleanlab's implementation.

    .venv/bin/python bench/bench_label_quality.py [--cleanlab]

For each crowd set with gold in ``tests/reference/crowd/``: the consensus is Concord's majority
vote (a tie is no label and is left out); a label is truly wrong when it differs from gold
(items without gold are left out). Items are ranked four ways and the share of all wrong labels
found in the top 5 % and 10 % is reported:

* random (expected share = 5 % / 10 %); "best possible" is a ranking that puts every wrong
  label first (below 100 % when there are more wrong labels than the top holds),
* the disagreement queue's order (1 − share of agreeing answer pairs; equal scores in a seeded
  random order),
* CROWDLAB label quality from the answers alone (``consistency.metrics.categorical.label_quality``),
* CROWDLAB with a simulated model (right ~80 % of the time: Dirichlet probabilities with 4 extra
  pseudo-counts on the gold class, the majority answer where there is no gold; seed 0).

``--cleanlab`` also runs ``cleanlab.multiannotator`` (a dev dependency) on the same inputs and
reports the Spearman correlation of the item rankings (trec takes ~45 s there).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_adaptive import SETS, load  # noqa: E402
from consistency.metrics.categorical.agreement import item_pair_agreement  # noqa: E402
from consistency.metrics.categorical.label_quality import label_quality  # noqa: E402
from consistency.metrics.stats.counts import value_counts  # noqa: E402


def simulated_model(answers: pd.DataFrame, truth: pd.Series, seed: int = 0) -> pd.DataFrame:
    """A model right about 80 % of the time: items × classes Dirichlet probabilities with 4 extra
    pseudo-counts on the gold class (the majority answer where there is no gold)."""
    classes = sorted(answers["value"].unique())
    items = sorted(answers["item"].unique())
    majority = answers.groupby("item")["value"].agg(lambda s: s.value_counts().index[0])
    reference = truth.reindex(items).fillna(majority.reindex(items))
    alpha = np.ones((len(items), len(classes)))
    alpha[np.arange(len(items)), [classes.index(v) for v in reference]] += 4
    rng = np.random.default_rng(seed)
    return pd.DataFrame(np.vstack([rng.dirichlet(a) for a in alpha]), index=items, columns=classes)


def found(order: pd.Index, wrong: pd.Series, share: float) -> float:
    """Share of all wrong labels among the first ``share`` of ``order``."""
    top = order[: round(share * len(order))]
    return float(wrong.reindex(top).sum() / wrong.sum())


def evaluate(name: str, with_cleanlab: bool) -> dict:
    answers, truth = load(name)
    classes = sorted(answers["value"].unique())
    plain = label_quality(answers, classes=classes)
    model = simulated_model(answers, truth)
    started = time.perf_counter()
    with_model = label_quality(answers, probabilities=model, classes=classes)
    seconds = time.perf_counter() - started
    items = plain.items
    labelled = items.index[items["label"].notna() & items.index.isin(truth.index)]
    wrong = (items.loc[labelled, "label"] != truth.reindex(labelled)).astype(int)
    index, counts = value_counts(answers, classes, min_labelers=1)
    disagreement = pd.Series(1 - np.nan_to_num(item_pair_agreement(counts), nan=1.0), index=index)
    rng = np.random.default_rng(0)
    noise = pd.Series(rng.random(len(labelled)), index=labelled)
    orders = {
        "disagreement": pd.DataFrame({"d": -disagreement.reindex(labelled), "r": noise})
        .sort_values(["d", "r"])
        .index,
        "crowdlab": plain.items.loc[labelled, "quality"].sort_values(kind="stable").index,
        "crowdlab_model": with_model.items.loc[labelled, "quality"].sort_values(kind="stable").index,
    }
    out = {
        "set": name,
        "scored": len(labelled),
        "wrong": int(wrong.sum()),
        "seconds": seconds,
        **{f"best_{q}": min(1.0, round(q / 100 * len(labelled)) / max(1, int(wrong.sum()))) for q in (5, 10)},
        **{f"{key}_{q}": found(order, wrong, q / 100) for key, order in orders.items() for q in (5, 10)},
    }
    if with_cleanlab:
        out["spearman"] = _cleanlab_spearman(answers, model, with_model.items["quality"])
    return out


def _cleanlab_spearman(answers, model, ours: pd.Series) -> float:
    from cleanlab.multiannotator import get_label_quality_multiannotator
    from scipy.stats import spearmanr

    classes = list(model.columns)
    codes = answers.assign(code=answers["value"].map({c: i for i, c in enumerate(classes)}))
    wide = codes.pivot_table(index="item", columns="labeler", values="code", aggfunc="first").reindex(
        model.index
    )
    reference = get_label_quality_multiannotator(
        wide, model.to_numpy(), consensus_method="majority_vote", verbose=False
    )["label_quality"]["consensus_quality_score"]
    ours = ours.reindex(model.index)
    kept = ours.notna().to_numpy()
    return float(spearmanr(ours.to_numpy()[kept], reference.to_numpy()[kept]).statistic)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cleanlab", action="store_true")
    args = parser.parse_args()
    print(
        "| set | labels scored | truly wrong | top 5 %: best possible · random · disagreement · CROWDLAB · "
        "CROWDLAB + model | top 10 %: best · random · disagreement · CROWDLAB · CROWDLAB + model |"
        + (" Spearman vs cleanlab |" if args.cleanlab else "")
    )
    print("| --- | --- | --- | --- | --- |" + (" --- |" if args.cleanlab else ""))
    for name in SETS:
        r = evaluate(name, args.cleanlab)
        cells = [
            " · ".join(
                [f"{100 * r[f'best_{q}']:.0f}%", f"{q}%"]
                + [f"{100 * r[f'{key}_{q}']:.0f}%" for key in ("disagreement", "crowdlab", "crowdlab_model")]
            )
            for q in (5, 10)
        ]
        extra = f" {r['spearman']:.4f} |" if args.cleanlab else ""
        print(f"| {name} | {r['scored']} | {r['wrong']} | {cells[0]} | {cells[1]} |{extra}")


if __name__ == "__main__":
    main()
