"""A run's inputs as one digest: what lets a run whose inputs equal its predecessor's take that
run's report and per-item results instead of computing and loading them again.

A review decision (a resolution, "lacks information") changes none of a run's inputs: it is read
live by every label reader (``selectors.labels``). Yet it starts a run (the pages' numbers must
not say "since this run"), and at 1M items that run spent about 10 s, half of it loading 1M
result rows equal to the last run's (docs/benchmarks.md). The digest covers everything
``measure_project`` and the run's report builder read, and the code that computes them: a
deploy that changes a metric changes the digest, so no report outlives the code that made it.
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
        digest.update(b"frame")
        _feed(digest, [str(c) for c in value.columns])
        _feed(digest, value.index)
        for name in value.columns:
            _feed(digest, value[name])
    elif isinstance(value, pd.RangeIndex):
        digest.update(f"range {value.start} {value.stop} {value.step}".encode())
    elif isinstance(value, pd.Series | pd.Index):
        digest.update(f"column {value.dtype} {len(value)}".encode())
        if isinstance(value.dtype, pd.CategoricalDtype):  # codes and categories, not a hash a row
            categorical = pd.Categorical(value)
            _feed(digest, categorical.categories)
            _feed(digest, categorical.codes)
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
