"""The row reductions of the metrics core give numpy's own values, dtypes and signs of zero."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from consistency.metrics.arrays import row_argmax, row_max, row_sum

DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32, np.float32, np.float64]


def tables(dtype, min_columns=1):
    elements = (
        st.floats(-1e9, 1e9, allow_nan=False, width=np.dtype(dtype).itemsize * 8)
        if np.dtype(dtype).kind == "f"
        else None
    )
    return hnp.arrays(
        dtype,
        st.tuples(st.integers(0, 30), st.integers(min_columns, 11)),
        elements=elements,
    )


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(DTYPES).flatmap(lambda dtype: tables(dtype)))
def test_row_reductions_equal_numpys(table):
    summed = row_sum(table)
    expected = table.sum(axis=1)
    assert summed.dtype == expected.dtype
    assert np.array_equal(summed, expected)
    assert np.array_equal(np.signbit(summed), np.signbit(expected))  # -0.0 sums to 0.0, as numpy
    if len(table):
        assert np.array_equal(row_max(table), table.max(axis=1))
        assert np.array_equal(row_argmax(table), table.argmax(axis=1))  # the first maximum


def test_row_sum_of_flags_and_ties():
    flags = np.array([[True, False, True], [False, False, False]])
    assert row_sum(flags).dtype == flags.sum(axis=1).dtype and row_sum(flags).tolist() == [2, 0]
    ties = np.array([[2, 2, 1], [0, 3, 3], [0.0, -0.0, 0.0]])
    assert row_argmax(ties).tolist() == [0, 1, 0]
    assert np.signbit(row_sum(np.array([[-0.0, -0.0, -0.0]]))).tolist() == [False]
