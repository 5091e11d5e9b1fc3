"""Value counts and coincidence matrices from annotations frames."""

import numpy as np
import pandas as pd
import pytest

from consistency.metrics.frames import encode, factorize
from consistency.metrics.stats.counts import (
    class_codes,
    coincidences,
    merge_counts,
    merge_matrix,
    pairable,
    value_counts,
)
from tests.consistency.metrics.agreement_data import K2011, K2011_CLASSES, REFERENCE, frame_from_matrix


def test_reference_file_matches_the_copied_table():
    if not REFERENCE.exists():
        pytest.fail(f"reference data missing at {REFERENCE}")
    table = pd.read_csv(REFERENCE, index_col=0)
    copied = [[np.nan if v is None else v for v in row] for row in K2011]
    np.testing.assert_array_equal(table.to_numpy(dtype=float), np.array(copied, dtype=float))


def test_counts_follow_the_given_class_order_and_sorted_items():
    frame = pd.DataFrame(
        {"item": ["b", "a", "a", "b", "a"], "labeler": [1, 1, 2, 2, 3], "value": ["y", "x", "y", "y", "y"]}
    )
    items, counts = value_counts(frame, ["y", "x", "z"])
    assert items.tolist() == ["a", "b"]
    assert counts.tolist() == [[2, 1, 0], [2, 0, 0]]
    assert counts.dtype == np.int64


def test_coincidences_of_krippendorff_2011():
    _, counts = value_counts(frame_from_matrix(K2011), K2011_CLASSES)
    o = coincidences(counts)
    # Krippendorff (2011), p. 5: the coincidence matrix of the 4 × 12 example.
    t = 1 / 3
    expected = np.array(
        [
            [7, 4 * t, t, t, 0],
            [4 * t, 10, 4 * t, t, 0],
            [t, 4 * t, 8, t, 0],
            [t, t, t, 4, 0],
            [0, 0, 0, 0, 3],
        ]
    )
    np.testing.assert_allclose(o, expected, atol=1e-12)
    assert o.sum() == pytest.approx(40)  # pairable values


def test_coincidences_are_the_same_in_blocks(monkeypatch):
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 3, size=(1000, 4))
    whole = coincidences(counts)
    monkeypatch.setattr("consistency.metrics.stats.counts.CHUNK_ITEMS", 7)
    np.testing.assert_allclose(coincidences(counts), whole)


def test_integer_weights_equal_repeated_items():
    counts = np.array([[2, 1, 0], [0, 3, 1], [1, 0, 0], [1, 1, 1]])
    weights = np.array([2, 0, 5, 1])
    np.testing.assert_allclose(
        coincidences(counts, weights), coincidences(np.repeat(counts, weights, axis=0))
    )


def test_pairable_items_have_two_values():
    assert pairable(np.array([[1, 0], [1, 1], [0, 0], [0, 2]])).tolist() == [False, True, False, True]


def test_merge_matrix_and_counts():
    m = merge_matrix(4, [[3, 1]])
    assert m.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]
    assert merge_counts(np.array([[1, 2, 0, 3]]), [[1, 3]]).tolist() == [[1, 5, 0]]
    with pytest.raises(ValueError, match="at least two"):
        merge_matrix(3, [[1]])
    with pytest.raises(ValueError, match="overlap"):
        merge_matrix(4, [[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="out of range"):
        merge_matrix(3, [[0, 3]])


@pytest.mark.parametrize(
    ("frame", "classes", "message"),
    [
        (pd.DataFrame(columns=["item", "labeler", "value"]), ["a"], "empty"),
        (pd.DataFrame({"item": [1], "value": ["a"]}), ["a"], "lacks columns: labeler"),
        (
            pd.DataFrame({"item": [1, 2], "labeler": ["x", "x"], "value": ["a", "b"]}),
            ["a", "b"],
            "one labeler",
        ),
        (
            pd.DataFrame({"item": [1, 1], "labeler": ["x", "y"], "value": ["a", "c"]}),
            ["a", "b"],
            "outside the schema",
        ),
        (pd.DataFrame({"item": [1, 1], "labeler": ["x", "y"], "value": ["a", None]}), ["a"], "no value"),
        (
            pd.DataFrame({"item": [1, 1], "labeler": ["x", "y"], "value": ["a", "a"]}),
            ["a", "a"],
            "duplicates",
        ),
        (
            pd.DataFrame({"item": [1, 1], "labeler": ["x", "y"], "value": ["a", "a"]}),
            [],
            "class list is empty",
        ),
    ],
)
def test_bad_frames_say_what_is_wrong(frame, classes, message):
    with pytest.raises(ValueError, match=message):
        value_counts(frame, classes)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        (np.zeros((0, 3), dtype=int), "no data"),
        (np.array([1, 2, 3]), "2-D"),
        (np.array([[1, -1]]), "negative"),
        (np.array([[1.5, 1.0]]), "whole numbers"),
    ],
)
def test_bad_counts_say_what_is_wrong(counts, message):
    with pytest.raises(ValueError, match=message):
        coincidences(counts)


def test_bad_weights_are_refused():
    with pytest.raises(ValueError, match="shape"):
        coincidences(np.array([[1, 1]]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="non-negative"):
        coincidences(np.array([[1, 1]]), np.array([-1.0]))


@pytest.mark.parametrize(
    "values",
    [
        ["b", "a", "borderline", "0", "1", "a", "b"],
        [3, 1, 2, 2, 1],
        [1, "1", 2.5, "1"],  # mixed types that do not sort: first-seen order, as for objects
    ],
)
def test_categorical_answers_are_coded_as_the_same_values_held_as_objects(values):
    """Class codes of a Categorical column (a run's answers) are the codes of the same values
    as Python objects, also with a category that no answer uses."""
    plain = pd.Series(values, dtype=object)
    categories = [*pd.unique(plain), "never answered"]
    coded = pd.Series(pd.Categorical(values, categories=categories))
    codes, uniques = factorize(coded)
    expected_codes, expected_uniques = factorize(plain)
    assert codes.tolist() == expected_codes.tolist()
    pd.testing.assert_index_equal(uniques, expected_uniques, exact=True)
    classes = [*pd.unique(plain)][::-1]
    assert class_codes(coded, classes).tolist() == class_codes(plain, classes).tolist()
    frame = pd.DataFrame({"item": range(len(values)), "labeler": 1, "value": coded})
    assert encode(frame).value.tolist() == expected_codes.tolist()
