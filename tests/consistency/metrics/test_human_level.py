import numpy as np
import pandas as pd
import pytest

from consistency.metrics.human_level import gap_to_hlp, human_level, leave_one_out, two_random_labelers_agree

# item 1: a, a, b   item 2: a, a, a   item 3: b, a (only two answers)
FRAME = pd.DataFrame(
    {
        "item": [1, 1, 1, 2, 2, 2, 3, 3],
        "labeler": ["x", "y", "z", "x", "y", "z", "x", "z"],
        "value": ["a", "a", "b", "a", "a", "a", "b", "a"],
    }
)


def test_leave_one_out_never_counts_the_labelers_own_vote():
    loo = leave_one_out(FRAME).set_index(["item", "labeler"])
    # z answered b on item 1; the others say a, a → reference a, disagree
    assert loo.loc[(1, "z"), "reference"] == "a" and loo.loc[(1, "z"), "agrees"] == 0
    # x answered a on item 1; the others are a, b → a tie → no reference
    assert loo.loc[(1, "x"), "reference"] is None and np.isnan(loo.loc[(1, "x"), "agrees"])
    # item 3 has two answers: each is compared with the other one
    assert loo.loc[(3, "x"), "reference"] == "a" and loo.loc[(3, "x"), "agrees"] == 0


def test_hlp_per_labeler_project_class_and_gold():
    result = human_level(FRAME, gold=pd.Series({2: "a", 3: "b"}), n_boot=200, seed=1)
    labelers = result["labelers"]
    # x: item1 tie (excluded), item2 agrees, item3 disagrees → 1/2
    assert labelers.loc["x", "loo_rate"] == pytest.approx(0.5) and labelers.loc["x", "loo_n"] == 2
    assert labelers.loc["x", "gold_rate"] == pytest.approx(1.0)  # a on 2, b on 3
    assert labelers.loc["z", "gold_rate"] == pytest.approx(0.5)
    assert labelers.loc["z", "confuses"] == "a" and labelers.loc["z", "answers_instead"] == "b"
    project = result["project"]
    scored = 1 + 3 + 2  # item1: only z (x and y each face a tie), item2: all three, item3: both
    assert project["n"] == scored
    assert project["excluded_answers"] == 2
    assert project["two_random_agree"] == pytest.approx(np.mean([1 / 3, 1.0, 0.0]))
    assert project["low"] <= project["hlp"] <= project["high"]
    assert set(result["per_class"].index) == {"a", "b"}


def test_hlp_per_slice_and_reproducible_intervals():
    slices = pd.DataFrame({"device": ["phone", "phone", "laptop"]}, index=[1, 2, 3])
    a = human_level(FRAME, slices=slices, n_boot=300, seed=5)
    b = human_level(FRAME, slices=slices, n_boot=300, seed=5)
    assert set(a["per_slice"]["device"].index) == {"phone", "laptop"}
    assert a["project"]["low"] == b["project"]["low"]


def test_two_random_labelers_agree_needs_pairs():
    assert np.isnan(two_random_labelers_agree(pd.DataFrame({"item": [1], "labeler": [1], "value": ["a"]})))


def test_gap_to_hlp_table_is_sorted_by_potential():
    predictions = pd.Series({1: "a", 2: "b", 3: "a", 4: "a"})
    reference = pd.Series({1: "a", 2: "a", 3: "a", 4: "b"})
    slices = pd.Series({1: "clean", 2: "car noise", 3: "clean", 4: "car noise"})
    hlp = pd.Series({"clean": 0.95, "car noise": 0.9})
    table = gap_to_hlp(predictions, reference, hlp, slices)
    assert table.iloc[0]["slice"] == "car noise"
    assert table.iloc[0]["model_accuracy"] == 0.0 and table.iloc[0]["gap"] == pytest.approx(0.9)
    assert table.iloc[0]["potential"] == pytest.approx(0.45)
    assert table["share"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="prediction"):
        gap_to_hlp(pd.Series(dtype=object), reference, hlp, slices)
