"""frames.key_codes: the codes and uniques pd.factorize(sort=True) gives, on each of its paths."""

import numpy as np
import pandas as pd
import pytest

from consistency.metrics import frames
from consistency.metrics.frames import key_codes


@pytest.mark.parametrize(
    ("n", "size", "rank_bound"),
    [
        (10_000, 30_000, None),  # a range within 4 × the keys: the table path, codes by running count
        (10_000, 30_000, 1_000),  # the same beyond the running count's bound: a binary search
        (10_000, 10**9, None),  # a wide range: the sort path
    ],
)
def test_key_codes_are_the_sorted_factorization(n, size, rank_bound, monkeypatch):
    if rank_bound is not None:
        monkeypatch.setattr(frames, "RANK_TABLE_MAX_KEYS", rank_bound)
    monkeypatch.setattr(frames, "RANK_BLOCK", 1_000)  # the gather crosses blocks
    rng = np.random.default_rng(size)
    pool = rng.choice(size, n // 3, replace=False)  # repeated keys, numbered once each
    key = rng.choice(pool, n)
    codes, uniques = key_codes(key, size)
    expected_codes, expected_uniques = pd.factorize(key, sort=True)
    assert codes.dtype == np.int32 and uniques.dtype == np.int64  # four bytes a code
    narrow_codes, narrow_uniques = key_codes(key.astype(np.int32), size) if size < 2**31 else (codes, uniques)
    np.testing.assert_array_equal(narrow_codes, codes)  # narrow keys: the same codes, no wider copy
    np.testing.assert_array_equal(narrow_uniques, uniques)
    np.testing.assert_array_equal(codes, expected_codes)
    np.testing.assert_array_equal(uniques, expected_uniques)
    np.testing.assert_array_equal(uniques[codes], key)


@pytest.mark.parametrize("size", [5, 10**9])
def test_key_codes_of_no_keys_and_of_one_key(size):
    codes, uniques = key_codes(np.zeros(0, dtype=np.int64), size)
    assert len(codes) == 0 and len(uniques) == 0
    codes, uniques = key_codes(np.array([3, 3, 3]), size)
    assert codes.tolist() == [0, 0, 0] and uniques.tolist() == [3]
