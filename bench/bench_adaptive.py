"""Adaptive overlap on real crowd data: how many answers it saves, and what accuracy costs.

    .venv/bin/python bench/bench_adaptive.py [--seeds 0 1 2] [--svg docs/adaptive.svg]

Replays the seven crowd sets with gold in ``tests/reference/crowd/``. Each item's real answers
arrive in a seeded random order and items arrive in a seeded random order, as in a live
project; before each next answer the policy (``labeling.adaptive``: the same functions the
submit path calls) decides whether it is requested. The labeler estimates are refitted as in
production: Dawid–Skene (``consistency.metrics.categorical.labeler_estimates``) on the answers collected so
far, once 100 answers are in and then whenever they grew by 10 % (at least 25); majority-vote
shares before that; each labeler's matrix is shrunk towards the typical labeler
(``labeling.adaptive.SHRINK_ANSWERS``). No gold is used by the policy; gold only scores the result.

Per set and seed it reports answers used as a share of all answers, and the accuracy against
gold of Dawid–Skene on (a) the answers adaptive collected, (b) all answers, and (c) fixed k at
the same average budget (each item gets ⌊b⌋ or ⌈b⌉ of its answers, in the same order, so the
budget matches exactly). Accuracy counts a tie (no consensus) as wrong.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consistency.metrics.categorical.consensus import accuracy  # noqa: E402
from consistency.metrics.categorical.dawid_skene import DawidSkene  # noqa: E402
from consistency.metrics.categorical.labeler_estimates import labeler_estimates  # noqa: E402
from labeling.adaptive import Estimates, decide, posterior  # noqa: E402

CROWD = ROOT / "tests" / "reference" / "crowd"
SETS = [
    "zhang2014_bluebird",
    "zhang2014_rte",
    "zhang2014_trec",
    "zhang2014_web",
    "zheng2017_d_jn-product",
    "zheng2017_s4_Dog_data",
    "zheng2017_s4_Face_Sentiment_Identification",
]
RENAME = {"question": "item", "worker": "labeler", "answer": "value"}
MIN_FIT_ANSWERS = 100  # as labeling.services.adaptive
REFIT_GROWTH, REFIT_MIN = 0.1, 25  # as consistency.services.labeler_fits


@dataclass(frozen=True)
class Policy:
    min_answers: int = 2
    max_answers: int = 50
    target_confidence: float = 0.99


def load(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """(answers with columns item, labeler, value; truth Series item → class), ids as text."""
    answers = pd.read_csv(CROWD / name / "answer.csv", dtype=str).rename(columns=RENAME)
    truth = pd.read_csv(CROWD / name / "truth.csv", dtype=str)
    return answers, truth.set_index("question")["truth"]


def _estimates(collected: list[tuple], classes: list[str]) -> Estimates:
    frame = pd.DataFrame(collected, columns=["item", "labeler", "value"])
    fitted = labeler_estimates(frame, classes=classes)
    return Estimates.from_matrices(
        classes=classes,
        priors=fitted.priors,
        confusion=fitted.confusion,
        answers=fitted.answers,
        typical=fitted.typical,
    )


def shuffled(answers: pd.DataFrame, seed: int) -> tuple[list, dict]:
    """Items in a seeded order, and each item's answers [(labeler, value)] in a seeded order."""
    rng = np.random.default_rng(seed)
    order = answers.sample(frac=1.0, random_state=int(rng.integers(2**31))).reset_index(drop=True)
    per_item: dict = {}
    for item, labeler, value in order[["item", "labeler", "value"]].itertuples(index=False):
        per_item.setdefault(item, []).append((labeler, value))
    items = list(per_item)
    rng.shuffle(items)
    return items, per_item


def replay(answers: pd.DataFrame, policy: Policy, seed: int) -> pd.DataFrame:
    """The answers the adaptive policy requests, replayed item by item (see module docstring)."""
    classes = sorted(answers["value"].unique())
    items, per_item = shuffled(answers, seed)
    collected: list[tuple] = []
    estimates, fitted_at = None, 0
    for item in items:
        available = per_item[item]
        target, used = policy.min_answers, []
        while len(used) < len(available):
            used.append(available[len(used)])
            collected.append((item, *used[-1]))
            _, confidence = posterior(used, estimates)
            decision = decide(
                target=target,
                answered=len(used),
                valued=len(used),
                confidence=confidence,
                min_answers=policy.min_answers,
                max_answers=policy.max_answers,
                target_confidence=policy.target_confidence,
            )
            target = decision.target
            if len(used) >= target:
                break
        grown = len(collected) - fitted_at
        if len(collected) >= MIN_FIT_ANSWERS and grown >= max(REFIT_MIN, REFIT_GROWTH * fitted_at):
            estimates, fitted_at = _estimates(collected, classes), len(collected)
    return pd.DataFrame(collected, columns=["item", "labeler", "value"])


def fixed_budget(answers: pd.DataFrame, budget: float, seed: int) -> pd.DataFrame:
    """⌊budget⌋ or ⌈budget⌉ answers per item (the first ones in the replay's order), so the
    mean over items is ``budget`` (items with fewer answers give all they have)."""
    items, per_item = shuffled(answers, seed)
    low = int(np.floor(budget))
    rng = np.random.default_rng(seed + 1_000)
    extra = set(rng.choice(len(items), size=round((budget - low) * len(items)), replace=False).tolist())
    rows = [
        (item, labeler, value)
        for position, item in enumerate(items)
        for labeler, value in per_item[item][: low + (position in extra)]
    ]
    return pd.DataFrame(rows, columns=["item", "labeler", "value"])


def ds_accuracy(frame: pd.DataFrame, truth: pd.Series) -> float:
    return accuracy(DawidSkene().fit_predict(frame), truth[truth.index.isin(frame["item"].unique())])


def compare(name: str, policy: Policy, seed: int) -> dict:
    answers, truth = load(name)
    adaptive = replay(answers, policy, seed)
    budget = len(adaptive) / answers["item"].nunique()
    return {
        "set": name,
        "seed": seed,
        "share": len(adaptive) / len(answers),
        "per_item_all": len(answers) / answers["item"].nunique(),
        "per_item_adaptive": budget,
        "all": ds_accuracy(answers, truth),
        "adaptive": ds_accuracy(adaptive, truth),
        "fixed": ds_accuracy(fixed_budget(answers, budget, seed), truth),
    }


def fixed_curve(name: str, seed: int, ks) -> list[tuple[float, float]]:
    """(answers share, accuracy) of fixed k for each k (the curve adaptive is compared to)."""
    answers, truth = load(name)
    return [
        (len(f) / len(answers), ds_accuracy(f, truth)) for f in (fixed_budget(answers, k, seed) for k in ks)
    ]


def svg_plot(curves: dict, points: dict, path: Path) -> None:
    """Small multiples, one panel per set: fixed k (line) and adaptive (dots, one per target
    confidence): x answers used (share of all), y Dawid–Skene accuracy against gold."""
    width, height, pad, cols = 300, 210, 38, 4
    rows = (len(curves) + cols - 1) // cols
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{cols * width}" height="{rows * height + 30}" '
        'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="10" y="{rows * height + 20}">grey line: fixed k = 1, 2, 3…   blue dots: adaptive '
        "(target confidence 0.8 … 0.99)   x: answers used / all answers   y: accuracy vs gold</text>",
    ]
    for index, name in enumerate(curves):
        ox, oy = (index % cols) * width, (index // cols) * height
        xs = [x for x, _ in curves[name]] + [x for x, _ in points[name]]
        ys = [y for _, y in curves[name]] + [y for _, y in points[name]]
        y_low, y_high = min(ys) - 0.01, max(ys) + 0.01

        x_high = max(xs)

        def sx(x, ox=ox, x_high=x_high):
            return ox + pad + x / x_high * (width - 2 * pad)

        def sy(y, oy=oy, lo=y_low, hi=y_high):
            return oy + height - pad - (y - lo) / (hi - lo) * (height - 2 * pad)

        out.append(f'<text x="{ox + pad}" y="{oy + 16}" font-weight="bold">{name}</text>')
        out.append(f'<line x1="{sx(0)}" y1="{sy(y_low)}" x2="{sx(max(xs))}" y2="{sy(y_low)}" stroke="#999"/>')
        for y in (y_low, (y_low + y_high) / 2, y_high):
            out.append(f'<text x="{ox + 2}" y="{sy(y) + 4}">{y:.3f}</text>')
        out.append(f'<text x="{sx(max(xs)) - 20}" y="{sy(y_low) + 14}">{max(xs):.2f}</text>')
        line = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in curves[name])
        out.append(f'<polyline points="{line}" fill="none" stroke="#888" stroke-width="1.5"/>')
        for x, y in curves[name]:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2" fill="#888"/>')
        for x, y in points[name]:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="#1971c2"/>')
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--min-answers", type=int, default=2)
    parser.add_argument("--max-answers", type=int, default=50, help="50: as many as each set has")
    parser.add_argument("--target", type=float, default=0.99)
    parser.add_argument("--svg", type=Path, default=None, help="write the plot here (e.g. docs/adaptive.svg)")
    args = parser.parse_args()
    policy = Policy(args.min_answers, args.max_answers, args.target)
    print(f"policy: {policy}")
    print(
        "| set | seed | answers/item (all) | adaptive answers/item | answers used | DS all | DS adaptive | DS fixed k, same budget |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = []
    for name in SETS:
        for seed in args.seeds:
            r = compare(name, policy, seed)
            rows.append(r)
            print(
                f"| {name} | {seed} | {r['per_item_all']:.2f} | {r['per_item_adaptive']:.2f} | {r['share']:.1%} "
                f"| {r['all']:.4f} | {r['adaptive']:.4f} | {r['fixed']:.4f} |"
            )
    table = pd.DataFrame(rows).groupby("set", sort=False)[["share", "all", "adaptive", "fixed"]].mean()
    print("\nMean over seeds:\n")
    print(
        "| set | answers used | saved | DS all | DS adaptive | Δ vs all (points) | DS fixed k | Δ vs fixed (points) | goal met |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, r in table.iterrows():
        to_all, to_fixed = 100 * (r["adaptive"] - r["all"]), 100 * (r["adaptive"] - r["fixed"])
        met = (1 - r["share"]) >= 0.3 and to_all >= -0.5 and to_fixed > 0
        print(
            f"| {name} | {r['share']:.1%} | {1 - r['share']:.1%} | {r['all']:.4f} | {r['adaptive']:.4f} "
            f"| {to_all:+.2f} | {r['fixed']:.4f} | {to_fixed:+.2f} | {'yes' if met else 'no'} |"
        )
    if args.svg:
        curves, points = {}, {}
        for name in SETS:
            answers, _ = load(name)
            top = int(np.ceil(answers.groupby("item").size().max()))
            curves[name] = fixed_curve(name, args.seeds[0], range(1, min(top, args.max_answers) + 1))
            points[name] = [
                (r["share"], r["adaptive"])
                for t in (0.8, 0.9, 0.95, 0.99)
                for r in [compare(name, Policy(args.min_answers, args.max_answers, t), args.seeds[0])]
            ]
        svg_plot(curves, points, args.svg)
        print(f"\nplot: {args.svg}")


if __name__ == "__main__":
    main()
