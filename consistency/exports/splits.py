"""Stable, stratified train/dev/test splits.

How both properties hold at once:

* **Stratified.** Items are grouped into strata (consensus class, optionally × a slice value).
  Inside a stratum, items are taken in creation order (item id) and the i-th item gets the
  i-th label of a *smooth weighted round-robin* sequence for the split weights (for 60/20/20:
  train, dev, train, test, train, …). Every prefix of that sequence is within one item of the
  exact proportions, and whole periods are exact: 30 positives at 60/20/20 give 18/6/6.
* **Stable.** An item's label depends only on its position in its stratum and on the seed (which
  rotates the sequence per stratum). New items get later positions, so growing the project never
  moves an old item to another split. An old item moves only if the stratum before it changes
  (an earlier item is deleted or changes consensus class); the manifest of a snapshot records
  the assignment, so a frozen dataset never changes.

Hand-written on purpose: scikit-learn's splitters reshuffle everything on each call and would
move old items between splits as the project grows.
"""

import hashlib
import re
from dataclasses import dataclass

import numpy as np

SPLIT_NAMES = ("train", "dev", "test", "val", "holdout")
_SPEC = re.compile(r"^\s*([a-z_]+)\s*:\s*(\d+)\s*$")


@dataclass(frozen=True)
class SplitSpec:
    names: tuple[str, ...]
    weights: tuple[int, ...]

    @property
    def period(self) -> int:
        return sum(self.weights)


def parse_split_spec(spec: str) -> SplitSpec:
    """``"train:80,dev:10,test:10"`` → SplitSpec. Percentages must be positive and sum to 100."""
    names, weights = [], []
    for part in spec.split(","):
        match = _SPEC.match(part)
        if not match:
            raise ValueError(f"Bad split part {part!r}: write name:percent, e.g. train:80,dev:10,test:10.")
        name, weight = match.group(1), int(match.group(2))
        if name not in SPLIT_NAMES:
            raise ValueError(f"Unknown split name {name!r}; use {', '.join(SPLIT_NAMES)}.")
        if name in names:
            raise ValueError(f"Split {name!r} appears twice.")
        if weight <= 0:
            raise ValueError(f"Split {name!r} needs a positive percentage.")
        names.append(name)
        weights.append(weight)
    if sum(weights) != 100:
        raise ValueError(f"Split percentages must sum to 100, not {sum(weights)}.")
    divisor = 0
    for weight in weights:
        divisor = _gcd(divisor, weight)
    return SplitSpec(tuple(names), tuple(w // divisor for w in weights))


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def weighted_sequence(spec: SplitSpec) -> list[int]:
    """One period of the smooth weighted round-robin over the splits (indices into names)."""
    current = [0] * len(spec.weights)
    total = spec.period
    sequence = []
    for _ in range(total):
        for i, weight in enumerate(spec.weights):
            current[i] += weight
        best = max(range(len(current)), key=lambda i: (current[i], -i))
        current[best] -= total
        sequence.append(best)
    return sequence


def stratum_offset(seed: int, stratum: str, period: int) -> int:
    digest = hashlib.sha256(f"{seed}\x1f{stratum}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % period


class SplitAssigner:
    """Label items one by one, in creation order within each stratum."""

    def __init__(self, spec: SplitSpec, seed: int):
        self.spec = spec
        self.seed = seed
        self.sequence = weighted_sequence(spec)
        self.positions: dict[str, int] = {}
        self.offsets: dict[str, int] = {}

    def assign(self, stratum: str, position: int | None = None) -> str:
        """The split of the next item of ``stratum`` (or of the item at ``position``, 0-based)."""
        if position is None:
            position = self.positions.get(stratum, 0)
            self.positions[stratum] = position + 1
        if stratum not in self.offsets:
            self.offsets[stratum] = stratum_offset(self.seed, stratum, self.spec.period)
        index = self.sequence[(position + self.offsets[stratum]) % self.spec.period]
        return self.spec.names[index]


class BatchSplitAssigner:
    """``SplitAssigner`` over whole batches of strata at once (numpy), for the export's fast path:
    one dict look-up per row, no Python call per row. The i-th row of a stratum, counted over
    every batch so far, takes the split ``SplitAssigner.assign`` gives it."""

    def __init__(self, spec: SplitSpec, seed: int):
        self.spec = spec
        self.seed = seed
        self.sequence = np.array(weighted_sequence(spec), dtype=np.intp)
        self.index: dict[str, int] = {}
        self.counts = np.zeros(0, dtype=np.intp)  # rows seen per stratum, by index
        self.offsets = np.zeros(0, dtype=np.intp)

    def _add(self, stratum: str) -> int:
        self.index[stratum] = len(self.index)
        self.counts = np.append(self.counts, 0)
        self.offsets = np.append(self.offsets, stratum_offset(self.seed, stratum, self.spec.period))
        return self.index[stratum]

    def assign(self, strata: list[int]) -> np.ndarray:
        """The split (an index into ``spec.names``) of each row of a batch, from the strata's
        indices (``stratum_index``), in row order."""
        ks = np.asarray(strata, dtype=np.intp)
        n = len(ks)
        # Each row's rank among the batch's rows of its stratum: sort stably by stratum, count
        # from each run's start, put back in row order.
        order = np.argsort(ks, kind="stable")
        sorted_ks = ks[order]
        rows = np.arange(n)
        run_start = np.maximum.accumulate(np.where(np.r_[True, sorted_ks[1:] != sorted_ks[:-1]], rows, 0))
        position = self.counts[sorted_ks] + rows - run_start
        picks = np.empty(n, dtype=np.intp)
        picks[order] = self.sequence[(position + self.offsets[sorted_ks]) % self.spec.period]
        self.counts += np.bincount(ks, minlength=len(self.counts))
        return picks

    def stratum_index(self, stratum: str) -> int:
        index = self.index.get(stratum)
        return self._add(stratum) if index is None else index
