"""Krippendorff's alpha at scale: our counts-based numpy code vs the `krippendorff` package.

    .venv/bin/python bench/bench_alpha.py --items 1000000

Generates items × 5 labelers × 10 classes with 20 % of answers missing (seeded), then times and
measures peak memory (tracemalloc) of: building per-item value counts from the annotations
frame plus alpha (ours), alpha from ready counts (ours; the bound an SQL GROUP BY feeds), the
bootstrap interval (1,000 resamples), and the `krippendorff` package on the same reliability
matrix. Each measurement runs in its own subprocess so peaks don't mix.
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
sys.path.insert(0, str(ROOT))


def data(items: int, labelers: int = 5, classes: int = 10, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, classes, items)
    noise = rng.integers(0, classes, (labelers, items))
    matrix = np.where(rng.random((labelers, items)) < 0.7, truth, noise).astype(float)
    matrix[rng.random(matrix.shape) < 0.2] = np.nan
    return matrix


def run(case: str, items: int) -> dict:
    from consistency.metrics.coincidence import alpha, bootstrap_alpha, value_counts

    matrix = data(items)
    labelers, units = np.nonzero(~np.isnan(matrix))
    frame = pd.DataFrame({"item": units, "labeler": labelers, "value": matrix[labelers, units].astype(int)})
    classes = list(range(10))
    counts = value_counts(frame, classes)[1] if case in ("counts", "bootstrap") else None
    tracemalloc.start()
    started = time.perf_counter()
    if case == "frame":
        value = alpha(value_counts(frame, classes)[1])
    elif case == "counts":
        value = alpha(counts)
    elif case == "bootstrap":
        value = bootstrap_alpha(counts, n_boot=1000, seed=0)[0]
    else:
        import krippendorff

        value = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 1024**2
    return {"case": case, "seconds": seconds, "peak_mb": peak, "value": float(value)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--case")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run(args.case, args.items)))
        return
    labels = {
        "frame": "ours: counts from the answers frame + alpha",
        "counts": "ours: alpha from per-item counts (SQL GROUP BY output)",
        "bootstrap": "ours: 95% bootstrap interval, 1,000 resamples",
        "krippendorff": "`krippendorff` package (reliability matrix)",
    }
    print(f"{args.items:,} items × 5 labelers × 10 classes, 20% missing")
    print("| computation | seconds | peak memory MB | value |")
    print("| --- | --- | --- | --- |")
    for case, label in labels.items():
        out = subprocess.run(
            [sys.executable, __file__, "--items", str(args.items), "--case", case],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {label} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | {r['value']:.6f} |")


if __name__ == "__main__":
    main()
