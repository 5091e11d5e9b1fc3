"""Krippendorff's alpha at scale: Concord's counts-based core vs the `krippendorff` package.

    .venv/bin/python bench/bench_alpha.py                 # 1,000,000 items
    .venv/bin/python bench/bench_alpha.py --items 100000  # smaller machines

Generates items × 5 labelers × 10 classes, each answer right with probability 0.7 and 20 % of
answers missing (seeded), as an annotations frame (item, labeler, value) and as the package's
labelers × items reliability matrix. Measured, each case in its own subprocess so peaks don't mix:

* ours, frame → alpha: ``consistency.metrics.stats.counts.value_counts`` (per-item counts from the
  answers) plus ``consistency.metrics.stats.alpha.alpha``;
* ours, counts → alpha: alpha from ready counts (what an SQL ``GROUP BY item, value`` feeds);
* ours, bootstrap: ``consistency.metrics.stats.bootstrap.bootstrap_alpha``, 1,000 resamples;
* the `krippendorff` package (``krippendorff.alpha`` on the reliability matrix, nominal).

Time is wall-clock of one run without tracing; memory is the tracemalloc peak of a second,
traced run: memory allocated by the computation beyond its input data.
"""

import argparse
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
LABELERS, CLASSES, MISSING, SEED = 5, 10, 0.2, 0


def reliability_matrix(items: int) -> np.ndarray:
    """(labelers, items) float array of class codes 0..9, NaN where missing."""
    rng = np.random.default_rng(SEED)
    truth = rng.integers(0, CLASSES, items)
    noise = rng.integers(0, CLASSES, (LABELERS, items))
    matrix = np.where(rng.random((LABELERS, items)) < 0.7, truth, noise).astype(float)
    matrix[rng.random(matrix.shape) < MISSING] = np.nan
    return matrix


def annotations_frame(matrix: np.ndarray) -> pd.DataFrame:
    """The same answers as an annotations frame, one row per answer."""
    labelers, items = np.nonzero(~np.isnan(matrix))
    return pd.DataFrame(
        {"item": items, "labeler": labelers, "value": matrix[labelers, items].astype(np.int64)}
    )


def run_case(case: str, items: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from consistency.metrics.stats.alpha import alpha
    from consistency.metrics.stats.bootstrap import bootstrap_alpha
    from consistency.metrics.stats.counts import value_counts

    classes = list(range(CLASSES))
    matrix = reliability_matrix(items)
    frame = annotations_frame(matrix)
    counts = value_counts(frame, classes).counts

    def compute():
        if case == "frame":
            return alpha(value_counts(frame, classes).counts)
        if case == "counts":
            return alpha(counts)
        if case == "bootstrap":
            result = bootstrap_alpha(counts, n_boot=1000, seed=0)
            return f"[{result.low:.4f}, {result.high:.4f}]"
        import krippendorff

        return krippendorff.alpha(
            reliability_data=matrix, level_of_measurement="nominal", value_domain=classes
        )

    started = time.perf_counter()
    value = compute()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    compute()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "case": case,
        "seconds": seconds,
        "peak_mb": peak / 2**20,
        "value": value if isinstance(value, str) else f"{float(value):.6f}",
        "answers": len(frame),
        "input_mb": (frame.memory_usage(deep=True).sum()) / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000, help="number of items (default 1,000,000)")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--skip-package", action="store_true", help="do not run the krippendorff package")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.items)))
        return
    cases = {
        "frame": "ours: answers frame → counts → alpha",
        "counts": "ours: counts → alpha",
        "bootstrap": "ours: bootstrap 95% CI, 1,000 resamples",
        "krippendorff": "`krippendorff` package, reliability matrix",
    }
    if args.skip_package:
        cases.pop("krippendorff")
    rows = []
    for case, label in cases.items():
        out = subprocess.run(
            [sys.executable, __file__, "--items", str(args.items), "--case", case],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        rows.append((label, json.loads(out.stdout.strip().splitlines()[-1])))
    first = rows[0][1]
    print(
        f"{args.items:,} items × {LABELERS} labelers × {CLASSES} classes, {MISSING:.0%} missing "
        f"({first['answers']:,} answers, frame {first['input_mb']:.0f} MB), seed {SEED}"
    )
    print("| computation | seconds | peak extra memory (MB) | nominal alpha |")
    print("| --- | ---: | ---: | --- |")
    for label, r in rows:
        print(f"| {label} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | {r['value']} |")


if __name__ == "__main__":
    main()
