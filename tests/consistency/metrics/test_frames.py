"""frames.key_codes: the codes and uniques pd.factorize(sort=True) gives, on both of its paths."""

import numpy as np
import pandas as pd
import pytest

from consistency.metrics.frames import key_codes


@pytest.mark.parametrize(
    ("n", "size"),
    [
        (10_000, 30_000),  # a range within 4 × the keys: the table path
        (10_000, 10**9),  # a wide range: the sort path
    ],
)
def test_key_codes_are_the_sorted_factorization(n, size):
    rng = np.random.default_rng(size)
    pool = rng.choice(size, n // 3, replace=False)  # repeated keys, numbered once each
    key = rng.choice(pool, n)
    codes, uniques = key_codes(key, size)
    expected_codes, expected_uniques = pd.factorize(key, sort=True)
    assert codes.dtype == np.int64 and uniques.dtype == np.int64
    np.testing.assert_array_equal(codes, expected_codes)
    np.testing.assert_array_equal(uniques, expected_uniques)
    np.testing.assert_array_equal(uniques[codes], key)


@pytest.mark.parametrize("size", [5, 10**9])
def test_key_codes_of_no_keys_and_of_one_key(size):
    codes, uniques = key_codes(np.zeros(0, dtype=np.int64), size)
    assert len(codes) == 0 and len(uniques) == 0
    codes, uniques = key_codes(np.array([3, 3, 3]), size)
    assert codes.tolist() == [0, 0, 0] and uniques.tolist() == [3]
