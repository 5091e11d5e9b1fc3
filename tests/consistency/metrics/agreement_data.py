"""Published reliability data shared by the agreement-core tests (no Django, no database)."""

from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
# A copy of ../shared/reference/ lives in tests/reference/, so a clone anywhere has it.
REFERENCE = ROOT / "tests" / "reference" / "krippendorff2011_4x12.csv"

# Krippendorff (2011), 4 observers (rows) × 12 units (columns), None = missing; the same table as
# ../shared/reference/krippendorff2011_4x12.csv, copied so the tests never depend on that path.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
K2011_CLASSES = [1, 2, 3, 4, 5]

# The `krippendorff` package README example: 3 coders × 15 units, nominal alpha 0.691358.
README_3X15 = [
    [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
    [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
    [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
]


def frame_from_matrix(matrix, labelers=None) -> pd.DataFrame:
    """Annotations frame (item, labeler, value) from a labelers × items table with None gaps."""
    labelers = labelers or [f"L{i}" for i in range(len(matrix))]
    rows = [
        (item, labelers[row], value)
        for row, values in enumerate(matrix)
        for item, value in enumerate(values)
        if value is not None and not (isinstance(value, float) and np.isnan(value))
    ]
    return pd.DataFrame(rows, columns=["item", "labeler", "value"])


def reliability_matrix(matrix) -> np.ndarray:
    """The same table as a float array with NaN for missing (the `krippendorff` package's input)."""
    return np.array([[np.nan if v is None else v for v in row] for row in matrix], dtype=float)
