"""Array types of the metrics core (numpy typing), shared by every module."""

from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
ObjectArray = NDArray[np.object_]
#: Any numpy array (inputs converted with ``np.asarray``).
AnyArray = NDArray[Any]


# Reductions along the rows of an (items × classes) table. numpy reduces a short last axis one
# row at a time (about 17 ms for the sums and 34 ms for the maxima of 1M × 3 here); a few whole
# columns combined element-wise take 2-3 ms. The values are numpy's own: maxima are exact, whole
# numbers add exactly in int64 (numpy's sum of narrower integers), and numpy adds fewer than
# eight floats of a row left to right, as below (wider tables go to numpy itself).
_SEQUENTIAL_FLOAT_SUM = 8


def row_sum(table: AnyArray) -> AnyArray:
    """``table.sum(axis=1)`` of a 2-D table, the same values and dtype: (n, k) → (n,)."""
    k = table.shape[1]
    if k == 0 or (table.dtype.kind == "f" and k >= _SEQUENTIAL_FLOAT_SUM) or table.dtype.kind not in "biuf":
        summed: AnyArray = table.sum(axis=1)
        return summed
    dtype = table.dtype if table.dtype.kind == "f" else np.result_type(table.dtype, np.int_)
    if table.dtype.kind == "u" and table.dtype.itemsize < np.dtype(np.uint).itemsize:
        dtype = np.dtype(np.uint)
    out = table[:, 0].astype(dtype, copy=True)
    if dtype.kind == "f":
        out += 0.0  # numpy's sum starts from 0.0: a row of -0.0 sums to 0.0
    for j in range(1, k):
        out += table[:, j]
    return out


def row_max(table: AnyArray) -> AnyArray:
    """``table.max(axis=1)`` of a 2-D table with at least one column: (n, k) → (n,)."""
    out = table[:, 0].copy()
    for j in range(1, table.shape[1]):
        np.maximum(out, table[:, j], out=out)
    return out


def row_argmax(table: AnyArray) -> IntArray:
    """``table.argmax(axis=1)`` (the first column holding the row's maximum) of a 2-D table
    without NaN, with at least one column: (n, k) → (n,) int64."""
    best = table[:, 0].copy()
    at = np.zeros(len(table), dtype=np.int64)
    for j in range(1, table.shape[1]):
        column = table[:, j]
        better = column > best
        at[better] = j
        np.maximum(best, column, out=best)
    return at
