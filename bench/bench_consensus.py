"""Consensus at scale and on real data: majority vote, Dawid–Skene and HLP on 1,000,000 answers,
and accuracy on the reference crowdsourcing sets (../shared/reference/crowd/).

    .venv/bin/python bench/bench_consensus.py [--answers 1000000] [--crowdkit-python PATH]

Synthetic data: 200,000 items × 5 answers from 500 labelers whose reliability is uniform in
0.55–0.95 (a wrong answer is a uniformly random class, possibly the right one), 5 classes,
seeded; accuracy is against the generated truth.

crowd-kit is not a Concord dependency. To compare with it, install it into a throwaway
environment and point the script at that interpreter (or set CROWDKIT_PYTHON):

    python3 -m venv /tmp/ckvenv && /tmp/ckvenv/bin/pip install crowd-kit
    .venv/bin/python bench/bench_consensus.py --crowdkit-python /tmp/ckvenv/bin/python

It then runs crowd-kit's DawidSkene (100 iterations on the synthetic data; its defaults,
n_iter=100 and tol=1e-5, on the reference sets) in a subprocess on the same data.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from consistency.metrics.categorical.consensus import (  # noqa: E402 — after the sys.path line
    MajorityVote,
    accuracy,
    majority_vote_accuracy,
)
from consistency.metrics.categorical.dawid_skene import DawidSkene  # noqa: E402
from consistency.metrics.categorical.hlp import human_level_performance  # noqa: E402

CROWD = ROOT / "tests" / "reference" / "crowd"
RENAME = {"question": "item", "worker": "labeler", "answer": "value"}

CROWDKIT_SCRIPT = r"""
import json, sys, time
import numpy as np, pandas as pd
from crowdkit.aggregation import DawidSkene
work, crowd = sys.argv[1], sys.argv[2]
out = {}
data = np.load(work + "/synthetic.npz")
frame = pd.DataFrame({"task": data["item"], "worker": data["labeler"], "label": data["value"]})
started = time.perf_counter()
labels = DawidSkene(n_iter=100, tol=float("-inf")).fit_predict(frame)
out["synthetic_seconds"] = time.perf_counter() - started
truth = pd.Series(data["truth"])
out["synthetic_accuracy"] = float((labels.reindex(truth.index) == truth).mean())
from pathlib import Path
for folder in sorted(Path(crowd).iterdir()):
    if not (folder / "truth.csv").exists():
        continue
    answers = pd.read_csv(folder / "answer.csv").rename(columns={"question": "task", "answer": "label"})
    gold = pd.read_csv(folder / "truth.csv").set_index("question")["truth"]
    started = time.perf_counter()
    labels = DawidSkene(n_iter=100, tol=1e-5).fit_predict(answers)
    out[folder.name] = [float((labels.reindex(gold.index) == gold).mean()), time.perf_counter() - started]
print(json.dumps(out))
"""


def synthetic(answers: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    per_item, classes, labelers = 5, 5, 500
    items = answers // per_item
    truth = rng.integers(0, classes, items)
    reliability = rng.uniform(0.55, 0.95, labelers)
    item = np.repeat(np.arange(items), per_item)
    labeler = rng.integers(0, labelers, len(item))
    correct = rng.random(len(item)) < reliability[labeler]
    value = np.where(correct, truth[item], rng.integers(0, classes, len(item)))
    return pd.DataFrame({"item": item, "labeler": labeler, "value": value}), pd.Series(truth)


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def crowdkit_python(requested: str | None) -> str | None:
    candidate = requested or os.environ.get("CROWDKIT_PYTHON")
    candidates = [candidate] if candidate else [sys.executable]
    for python in candidates:
        probe = subprocess.run([python, "-c", "import crowdkit"], capture_output=True, check=False)
        if probe.returncode == 0:
            return python
    return None


def run_crowdkit(python: str, frame: pd.DataFrame, truth: pd.Series) -> dict | None:
    with tempfile.TemporaryDirectory() as work:
        np.savez(
            Path(work) / "synthetic.npz",
            item=frame["item"].to_numpy(),
            labeler=frame["labeler"].to_numpy(),
            value=frame["value"].to_numpy(),
            truth=truth.to_numpy(),
        )
        done = subprocess.run(
            [python, "-W", "ignore", "-c", CROWDKIT_SCRIPT, work, str(CROWD)],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        print(f"crowd-kit run failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument(
        "--crowdkit-python", help="an interpreter with crowd-kit installed (or CROWDKIT_PYTHON)"
    )
    args = parser.parse_args()

    python = crowdkit_python(args.crowdkit_python)
    frame, truth = synthetic(args.answers)
    crowdkit = run_crowdkit(python, frame, truth) if python else None
    if python is None:
        print("crowd-kit not installed (pass --crowdkit-python or set CROWDKIT_PYTHON to compare)")

    print(
        f"\nsynthetic: {len(frame):,} answers, {frame['item'].nunique():,} items, "
        f"{frame['labeler'].nunique()} labelers, 5 classes\n"
    )
    print("| method | seconds | iterations | accuracy | ties (no consensus) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    vote, seconds = timed(lambda: MajorityVote().fit(frame))
    print(f"| majority vote | {seconds:.2f} | – | {accuracy(vote.labels_, truth):.4f} | {vote.ties_:,} |")
    print(f"| majority vote, ties scored 1/t | – | – | {majority_vote_accuracy(frame, truth):.4f} | – |")
    model, seconds = timed(lambda: DawidSkene(max_iter=100, tol=0).fit(frame))
    print(
        f"| Dawid–Skene, exactly 100 iterations | {seconds:.2f} | {model.n_iter_} | "
        f"{accuracy(model.labels_, truth):.4f} | {model.ties_} |"
    )
    model, seconds = timed(lambda: DawidSkene().fit(frame))
    print(
        f"| Dawid–Skene, default tol 1e-5 | {seconds:.2f} | {model.n_iter_} | "
        f"{accuracy(model.labels_, truth):.4f} | {model.ties_} |"
    )
    if crowdkit:
        print(
            f"| crowd-kit DawidSkene, 100 iterations | {crowdkit['synthetic_seconds']:.2f} | 100 | "
            f"{crowdkit['synthetic_accuracy']:.4f} | – |"
        )
    report, seconds = timed(lambda: human_level_performance(frame, gold=truth, n_boot=1000))
    project = report.project
    print(
        f"\nHLP on the same answers ({seconds:.2f} s, 1,000 bootstrap resamples, gold = the truth): "
        f"leave-one-out {project['hlp']:.4f} [{project['hlp_low']:.4f}, {project['hlp_high']:.4f}], "
        f"two random labelers agree {project['two_random_agree']:.4f}, "
        f"accuracy vs gold {project['gold_accuracy']:.4f}"
    )

    print("\nreference sets: accuracy on the items with gold")
    print("majority vote: ties scored 1/t (as published) and as wrong (Concord's rule: no consensus)\n")
    header = "| set | answers | majority vote (1/t) | majority vote (ties wrong) | Dawid–Skene | iterations | seconds |"
    rule = "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    if crowdkit:
        header += " crowd-kit Dawid–Skene | crowd-kit seconds |"
        rule += " ---: | ---: |"
    print(header)
    print(rule)
    for folder in sorted(p for p in CROWD.iterdir() if (p / "truth.csv").exists()):
        answers = pd.read_csv(folder / "answer.csv").rename(columns=RENAME)
        gold = pd.read_csv(folder / "truth.csv").set_index("question")["truth"]
        model, seconds = timed(lambda answers=answers: DawidSkene().fit(answers))
        row = (
            f"| {folder.name} | {len(answers):,} | {majority_vote_accuracy(answers, gold):.4f} | "
            f"{majority_vote_accuracy(answers, gold, ties='wrong'):.4f} | {accuracy(model.labels_, gold):.4f} | "
            f"{model.n_iter_} | {seconds:.3f} |"
        )
        if crowdkit:
            row += f" {crowdkit[folder.name][0]:.4f} | {crowdkit[folder.name][1]:.3f} |"
        print(row)


if __name__ == "__main__":
    main()
