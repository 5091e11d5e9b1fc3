"""Agreement coefficients against published values (../shared/reference/README.md)."""

import os
import subprocess
import sys
from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consistency.metrics.chance import cohen_kappa_pairs, fleiss_kappa, gwet_ac1, percent_agreement
from consistency.metrics.coincidence import (
    alpha,
    bootstrap_alpha,
    confusion_pairs,
    merge_counts,
    per_class_alpha,
    value_counts,
)

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = ROOT / "tests" / "reference" / "krippendorff2011_4x12.csv"
# The same matrix, copied from Krippendorff (2011) so the test never depends on the path above:
# 4 observers × 12 units, None = missing.
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _frame(matrix) -> pd.DataFrame:
    rows = [(u, o, v) for o, row in enumerate(matrix) for u, v in enumerate(row) if v is not None]
    return pd.DataFrame(rows, columns=["item", "labeler", "value"])


@pytest.fixture
def k2011_counts():
    _, counts = value_counts(_frame(K2011), [1, 2, 3, 4, 5])
    return counts


def test_reference_file_matches_the_copied_table():
    if not REFERENCE.exists():
        pytest.fail(f"reference data missing at {REFERENCE}")
    table = pd.read_csv(REFERENCE, header=None)
    assert table.shape[0] in (4, 5)  # with or without a header row


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_2011_published_alpha(k2011_counts, level, published):
    assert alpha(k2011_counts, level, values=[1, 2, 3, 4, 5]) == pytest.approx(published, abs=5e-4)


def test_irrcac_values_on_the_same_matrix(k2011_counts):
    assert percent_agreement(k2011_counts) == pytest.approx(0.8181818, abs=1e-6)
    assert gwet_ac1(k2011_counts) == pytest.approx(0.77544, abs=5e-5)
    assert fleiss_kappa(k2011_counts) == pytest.approx(0.76117, abs=5e-5)


def test_krippendorff_package_readme_example():
    data = [
        [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
        [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
        [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
    ]
    _, counts = value_counts(_frame(data), [1, 2, 3, 4])
    assert alpha(counts) == pytest.approx(0.691358, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=2, max_value=6),
    st.integers(min_value=3, max_value=40),
    st.integers(min_value=2, max_value=5),
    st.integers(min_value=0, max_value=10_000),
)
def test_alpha_matches_the_krippendorff_package(n_labelers, n_items, n_classes, seed):
    rng = np.random.default_rng(seed)
    matrix = rng.integers(1, n_classes + 1, size=(n_labelers, n_items)).astype(float)
    matrix[rng.random(matrix.shape) < 0.2] = np.nan
    frame = _frame([[None if np.isnan(v) else int(v) for v in row] for row in matrix])
    _, counts = value_counts(frame, list(range(1, n_classes + 1)))
    values = list(range(1, n_classes + 1))
    for level in ("nominal", "ordinal", "interval"):
        try:
            expected = krippendorff.alpha(
                reliability_data=matrix, level_of_measurement=level, value_domain=values
            )
        except (ValueError, ZeroDivisionError):
            continue
        ours = alpha(counts, level, values) if (counts.sum(axis=1) >= 2).sum() else np.nan
        if np.isfinite(expected):
            assert ours == pytest.approx(expected, abs=1e-9)


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="empty"):
        value_counts(pd.DataFrame(columns=["item", "labeler", "value"]), ["a"])
    with pytest.raises(ValueError, match="outside the schema"):
        value_counts(_frame([["a", "b"], ["a", "x"]]), ["a", "b"])
    with pytest.raises(ValueError, match="pairable"):
        alpha(np.array([[1, 0], [0, 1]]))
    with pytest.raises(ValueError, match="level"):
        alpha(np.array([[2, 0], [1, 1]]), "cardinal")


def test_per_class_confusion_and_merge():
    # deep/shallow scratch are confused, dent is clear
    frame = _frame([["deep", "deep", "dent", "none", "shallow"], ["shallow", "deep", "dent", "none", "deep"]])
    classes = ["deep", "shallow", "dent", "none"]
    _, counts = value_counts(frame, classes)
    pairs = confusion_pairs(counts)
    assert pairs[0, 1] == 2 and pairs[2, 2] == 1 and pairs[0, 2] == 0
    per_class = per_class_alpha(counts)
    assert per_class[2] == pytest.approx(1.0) and per_class[0] < 0.5
    merged = merge_counts(counts, [[0, 1]])
    assert alpha(merged) == pytest.approx(1.0)
    assert alpha(counts) < 0.7


def test_bootstrap_interval_is_reproducible_and_contains_alpha(k2011_counts):
    low, high = bootstrap_alpha(k2011_counts, n_boot=500, seed=3)
    assert (low, high) == bootstrap_alpha(k2011_counts, n_boot=500, seed=3)
    assert low < alpha(k2011_counts) < high


def test_cohen_kappa_pairs():
    frame = _frame([["a", "a", "b", "b", "a"], ["a", "a", "b", "b", "a"], ["b", "a", "a", "b", "b"]])
    kappa, support = cohen_kappa_pairs(frame, ["a", "b"])
    assert kappa.loc[0, 1] == pytest.approx(1.0)
    assert support.loc[0, 2] == 5
    assert np.isnan(kappa.loc[0, 0])
    assert kappa.loc[0, 2] == pytest.approx(kappa.loc[2, 0])


def test_metrics_do_not_import_django():
    code = (
        "import sys, importlib, pkgutil, consistency.metrics as m\n"
        "names = [x.name for x in pkgutil.iter_modules(m.__path__)]\n"
        "[importlib.import_module('consistency.metrics.' + name) for name in names]\n"
        "assert not [k for k in sys.modules if k.split('.')[0] == 'django'], 'django imported'"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


def test_majority_vote_ties_give_no_consensus():
    from consistency.metrics.voting import item_pair_agreement, majority_from_counts, top_two

    counts = np.array([[2, 1, 0], [1, 1, 0], [0, 0, 0], [0, 3, 0]])
    winner, share, tie = majority_from_counts(counts)
    assert winner.tolist() == [0, -1, -1, 1]
    assert tie.tolist() == [False, True, False, False]
    assert share[0] == pytest.approx(2 / 3) and np.isnan(share[2])
    first, second = top_two(counts)
    assert first.tolist() == [0, 0, -1, 1] and second.tolist() == [1, 1, -1, -1]
    agreement = item_pair_agreement(counts)
    assert agreement[0] == pytest.approx(1 / 3) and agreement[3] == 1.0 and np.isnan(agreement[2])
