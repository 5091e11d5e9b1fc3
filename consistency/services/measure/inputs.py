"""A run's inputs as one digest: what lets a run whose inputs equal its predecessor's take that
run's report and per-item results instead of computing and loading them again.

A review decision changes none of the answers: "lacks information" changes no input at all, and
a resolution makes an item gold, which only the report reads (the per-item results score the
answers; readers show a decided item's quality as 1.0). Yet each starts a run (the pages' numbers
must not say "since this run"), and at 1M items that run spent about 10 s, half of it loading 1M
result rows equal to the last run's (docs/benchmarks.md). The digests cover everything
``measure_project`` and the run's report builder read, and the code that computes them: a
deploy that changes a metric changes them, so no report or result outlives the code that made it.
"""

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# The code a run's report and results come from: the numeric core and the measuring services.
_CODE_ROOTS = ("metrics", "services/measure", "report.py")


def run_inputs_digests(*, results_skip: tuple[str, ...] = (), **inputs: Any) -> tuple[str, str]:
    """Hex digests of the named inputs (frames, arrays, mappings, lists, scalars) and of the
    measuring code: of them all (equal: the same report and results), and of all but those named
    in ``results_skip`` (inputs the per-item results do not read: equal, the same results)."""
    whole = hashlib.blake2b(digest_size=32)
    results = hashlib.blake2b(digest_size=32)
    for digest in (whole, results):
        digest.update(_code_digest())
    for name in sorted(inputs):
        one = hashlib.blake2b(digest_size=32)
        _feed(one, inputs[name])
        for digest in (whole, results) if name not in results_skip else (whole,):
            digest.update(name.encode())
            digest.update(one.digest())
    return whole.hexdigest(), results.hexdigest()


def _feed(digest, value: Any) -> None:
    if isinstance(value, pd.DataFrame):
        # Its rows as a multiset, each with its index unless that is only the row's position:
        # the answers come in no fixed order (two halves read at once, each a sequential scan
        # that PostgreSQL may start mid-table beside another), and equal answers must give
        # equal digests. The measures read them as a set (up to the order of floating-point sums).
        digest.update(b"frame")
        _feed(digest, [f"{name} {_kind(value[name])}" for name in value.columns])
        positional = isinstance(value.index, pd.RangeIndex)
        try:
            rows = pd.util.hash_pandas_object(value, index=not positional)
        except TypeError:  # lists and mappings (boxes, multi-class answers) by their text
            texts = value.apply(lambda column: column.map(_canonical) if column.dtype == object else column)
            rows = pd.util.hash_pandas_object(texts, index=not positional)
        digest.update(_multiset(rows.to_numpy()))
    elif isinstance(value, pd.RangeIndex):
        digest.update(f"range {value.start} {value.stop} {value.step}".encode())
    elif isinstance(value, pd.Series | pd.Index):
        digest.update(f"column {value.dtype} {len(value)}".encode())
        if isinstance(value.dtype, pd.CategoricalDtype):  # codes and categories, not a hash a row
            # In a canonical order: the answers' reader numbers values as they come (two halves
            # read at once), and equal answers must give equal digests.
            categorical = pd.Categorical(value)
            order = np.argsort(np.asarray(categorical.categories.astype(str)), kind="stable")
            rank = np.empty(len(order) + 1, dtype=np.int64)
            rank[order] = np.arange(len(order))
            rank[-1] = -1  # code -1: missing
            _feed(digest, categorical.categories[order])
            _feed(digest, rank[categorical.codes])
        elif isinstance(value.dtype, np.dtype) and value.dtype != object:
            _feed(digest, value.to_numpy())
        else:
            # pandas' own row hashing (64 bits a row; None apart from ""), lists and mappings (boxes,
            # multi-class answers: unhashable) by their text
            try:
                hashed = pd.util.hash_pandas_object(value, index=False)
            except TypeError:
                texts = pd.Series(value).map(_canonical)
                hashed = pd.util.hash_pandas_object(texts, index=False)
            digest.update(hashed.to_numpy().tobytes())
    elif isinstance(value, np.ndarray):
        digest.update(f"array {value.dtype} {value.shape}".encode())
        if value.dtype == object:
            _feed(digest, pd.Series(value.reshape(-1)))
        else:
            digest.update(np.ascontiguousarray(value).tobytes())
    else:  # mappings, lists, scalars
        digest.update(b"json")
        digest.update(_canonical(value).encode())


def _multiset(hashes: np.ndarray) -> bytes:
    """Row hashes as a multiset, in one pass instead of a sort (3M rows: 0.2 s): their sums
    modulo 2**64, of the hashes and of a second mix of them (the additive multiset hash)."""
    hashes = hashes.astype(np.uint64, copy=False)
    mixed = (hashes ^ (hashes >> np.uint64(31))) * np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        sums = np.array(
            [len(hashes), hashes.sum(dtype=np.uint64), mixed.sum(dtype=np.uint64)], dtype=np.uint64
        )
    return sums.tobytes()


def _kind(column: pd.Series) -> str:
    """A column's type, categories apart (their order is the reader's)."""
    return "category" if isinstance(column.dtype, pd.CategoricalDtype) else str(column.dtype)


def _canonical(value: Any) -> str:
    """JSON with sorted keys, anything JSON lacks by its text."""
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except TypeError:  # keys of mixed types do not sort: their order, then
        return json.dumps(value, default=str)


@cache
def _code_digest() -> bytes:
    root = Path(__file__).resolve().parents[2]  # the consistency package
    digest = hashlib.blake2b(digest_size=32)
    for entry in _CODE_ROOTS:
        path = root / entry
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.digest()
