"""The digest of a run's inputs (services.measure.inputs): equal inputs give equal digests, and a
change to any one of them, down to one answer, changes the digest a run shares results by."""

import numpy as np
import pandas as pd
import pytest

from consistency.services.measure import inputs as run_inputs
from consistency.services.measure.inputs import run_inputs_digests


def _inputs(**changes):
    frame = pd.DataFrame(
        {
            "item": np.array([1, 1, 2, 2, 3], dtype=np.int32),
            "labeler": np.array([7, 8, 7, 8, 7], dtype=np.int32),
            "value": pd.Categorical(["a", "b", "a", "a", None], categories=["a", "b"]),
            "skipped": [False, False, False, False, True],
        }
    )
    slices = pd.DataFrame({"site": ["x", None, "y"]}, index=pd.Index([1, 2, 3], name="item"))
    inputs = {
        "frame": frame,
        "slices": slices,
        "gold": {3: "a"},
        "classes": ["a", "b"],
        "params": {"consensus": "majority", "seed": 0},
        "probabilities": None,
    }
    for name, change in changes.items():
        inputs[name] = change(inputs[name])
    return inputs


def _digests(**changes):
    return run_inputs_digests(results_skip=("gold",), **_inputs(**changes))


def _with(frame, column, row, value):
    frame = frame.copy()
    frame.loc[row, column] = value
    return frame


def test_equal_inputs_built_apart_give_equal_digests():
    assert _digests() == _digests()
    whole, results = _digests()
    assert len(whole) == len(results) == 64 and whole != results


@pytest.mark.parametrize(
    "changes",
    [
        {"frame": lambda f: _with(f, "value", 1, "a")},  # one answer
        {"frame": lambda f: _with(f, "value", 4, "b")},  # a missing value given
        {"frame": lambda f: _with(f, "labeler", 0, 9)},
        {"frame": lambda f: _with(f, "skipped", 0, True)},
        {"frame": lambda f: _with(_with(f, "value", 0, "b"), "value", 1, "a")},  # two answers swapped
        {"frame": lambda f: f.assign(value=f["value"].cat.rename_categories(["a", "c"]))},
        {"frame": lambda f: f.iloc[:4]},
        {"slices": lambda s: s.fillna("")},  # None is not ""
        {"slices": lambda s: s.rename(index={3: 4})},
        {"classes": lambda c: [*c, "borderline"]},
        {"params": lambda p: p | {"consensus": "dawid_skene"}},
        {"probabilities": lambda _: pd.DataFrame({"a": [0.9], "b": [0.1]}, index=[1])},
    ],
)
def test_a_change_to_what_results_read_changes_both_digests(changes):
    whole, results = _digests()
    changed_whole, changed_results = _digests(**changes)
    assert changed_whole != whole and changed_results != results


def test_gold_changes_the_report_digest_and_not_the_results_one():
    whole, results = _digests()
    changed_whole, changed_results = _digests(gold=lambda g: g | {1: "b"})
    assert changed_whole != whole and changed_results == results


def test_answers_that_are_lists_and_mappings_are_read_by_their_content():
    def boxes(x):
        return pd.DataFrame(
            {
                "item": [1, 1],
                "value": [[{"x": 0, "y": 0, "w": 5, "h": 5}], [{"x": x, "y": 0, "w": 5, "h": 5}]],
            }
        )

    assert run_inputs_digests(frame=boxes(1)) == run_inputs_digests(frame=boxes(1))
    assert run_inputs_digests(frame=boxes(1)) != run_inputs_digests(frame=boxes(2))


def test_the_measuring_code_is_part_of_the_digest(monkeypatch):
    assert run_inputs._code_digest.__wrapped__() == run_inputs._code_digest()
    monkeypatch.setattr(run_inputs, "_CODE_ROOTS", ("services/measure", "report.py"))
    assert run_inputs._code_digest.__wrapped__() != run_inputs._code_digest()  # metrics/ counted


def test_answers_read_with_their_values_numbered_otherwise_give_the_same_digest():
    def reordered(frame):
        return frame.assign(value=frame["value"].cat.reorder_categories(["b", "a"]))

    assert _digests(frame=reordered) == _digests()
    assert _digests(frame=lambda f: reordered(_with(f, "value", 0, "b"))) != _digests()


def test_the_answers_are_a_multiset_and_their_order_does_not_count():
    def shuffled(frame):
        return frame.sample(frac=1.0, random_state=4).reset_index(drop=True)

    assert _digests(frame=shuffled) == _digests()
    assert _digests(slices=lambda s: s.iloc[::-1]) == _digests()  # indexed by item: rows keep their item
    assert _digests(frame=lambda f: pd.concat([f, f.iloc[[0]]], ignore_index=True)) != _digests()
    assert _digests(slices=lambda s: s.set_axis([1, 3, 2])) != _digests()
