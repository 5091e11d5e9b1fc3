"""Human-level performance: leave-one-out agreement, gold accuracy, two-random agreement,
per class and slice, and the gap-to-HLP table — on small hand-computed examples."""

import numpy as np
import pandas as pd
import pytest

from consistency.metrics.categorical.hlp import (
    human_level_performance,
    leave_one_out,
    two_random_labelers_agree,
)
from consistency.metrics.gap import gap_to_hlp

# item 1: x a, y a, z b    item 2: x a, y a, z a    item 3: x b, z a    item 4: y b (alone)
FRAME = pd.DataFrame(
    {
        "item": [1, 1, 1, 2, 2, 2, 3, 3, 4],
        "labeler": ["x", "y", "z", "x", "y", "z", "x", "z", "y"],
        "value": ["a", "a", "b", "a", "a", "a", "b", "a", "b"],
    }
)
GOLD = pd.Series({2: "a", 3: "b"})


def test_leave_one_out_reference_is_the_other_labelers_majority():
    loo = leave_one_out(FRAME).set_index(["item", "labeler"])
    # z said b on item 1; x and y say a → reference a, disagree
    assert loo.loc[(1, "z"), "reference"] == "a" and loo.loc[(1, "z"), "agrees"] == 0.0
    # x said a on item 1; the others say a, b → a tie: no reference, counted as a tie
    assert loo.loc[(1, "x"), "reference"] is None and loo.loc[(1, "x"), "status"] == "tie"
    assert np.isnan(loo.loc[(1, "x"), "agrees"])
    # two answers: each is compared with the other one
    assert loo.loc[(3, "x"), "reference"] == "a" and loo.loc[(3, "z"), "reference"] == "b"
    # nobody else answered item 4
    assert loo.loc[(4, "y"), "status"] == "alone"
    assert list(leave_one_out(FRAME)["item"]) == list(FRAME["item"])  # frame order kept


def test_a_labelers_repeated_answers_are_never_their_own_reference():
    # x rated item 1 three times (b, b, b); y and z said a. Removing only the one answer would
    # leave b, b, a, a (a tie) or b, b, a (b!) as "the others": the reference must be a, a.
    frame = pd.DataFrame(
        {"item": [1, 1, 1, 1, 1], "labeler": ["x", "x", "x", "y", "z"], "value": ["b", "b", "b", "a", "a"]}
    )
    loo = leave_one_out(frame)
    x_rows = loo[loo["labeler"] == "x"]
    assert (x_rows["reference"] == "a").all() and (x_rows["agrees"] == 0).all()
    # for y the others are x's b, b, b and z's a → b
    assert loo.loc[loo["labeler"] == "y", "reference"].item() == "b"


def test_hlp_per_labeler_and_project_hand_computed():
    report = human_level_performance(FRAME, gold=GOLD, n_boot=200, seed=1)
    labelers = report.labelers
    # x: item1 tie (excluded), item2 agrees, item3 disagrees → 1/2
    assert labelers.loc["x", "loo_agreement"] == pytest.approx(0.5)
    assert labelers.loc["x", ["loo_n", "loo_ties", "loo_alone", "n_answers"]].tolist() == [2, 1, 0, 3]
    # y: item1 tie, item2 agrees, item4 alone → 1/1
    assert labelers.loc["y", "loo_agreement"] == pytest.approx(1.0) and labelers.loc["y", "loo_alone"] == 1
    # z: item1 disagrees, item2 agrees, item3 disagrees → 1/3
    assert labelers.loc["z", "loo_agreement"] == pytest.approx(1 / 3)
    # gold: x a on 2, b on 3 → 2/2; z a on 2, a on 3 → 1/2; y a on 2 → 1/1
    assert labelers["gold_accuracy"].to_dict() == pytest.approx({"x": 1.0, "y": 1.0, "z": 0.5})
    assert labelers["gold_n"].to_dict() == {"x": 2, "y": 1, "z": 2}
    project = report.project
    # answers-weighted: (1 + 1 + 1) agree of 6 scored (x 2, y 1, z 3)
    assert project["hlp"] == pytest.approx(3 / 6)
    assert project["hlp_unweighted"] == pytest.approx((0.5 + 1 + 1 / 3) / 3)
    assert (project["loo_n"], project["loo_ties"], project["loo_alone"]) == (6, 2, 1)
    # pairs agree: item1 1/3, item2 1, item3 0 (item4 has one labeler)
    assert project["two_random_agree"] == pytest.approx((1 / 3 + 1 + 0) / 3)
    assert project["gold_accuracy"] == pytest.approx(4 / 5)
    assert project["hlp_low"] <= project["hlp"] <= project["hlp_high"]
    for name in ("x", "z"):
        assert (
            labelers.loc[name, "loo_low"]
            <= labelers.loc[name, "loo_agreement"]
            <= labelers.loc[name, "loo_high"]
        )


def test_hlp_per_class_groups_by_the_others_consensus():
    per_class = human_level_performance(FRAME, gold=GOLD, n_boot=0).per_class
    # reference a: (1,z) 0, (2,x) 1, (2,y) 1, (2,z) 1, (3,x) 0 → 3/5; reference b: (3,z) 0 → 0/1
    assert per_class.loc["a", "loo_agreement"] == pytest.approx(3 / 5) and per_class.loc["a", "loo_n"] == 5
    assert per_class.loc["b", "loo_agreement"] == 0.0
    # gold class a (item 2): 3/3; gold class b (item 3): x right, z wrong → 1/2
    assert per_class["gold_accuracy"].to_dict() == pytest.approx({"a": 1.0, "b": 0.5})
    # item majority: 1 → a, 2 → a, 3 tie (left out), 4 → b
    assert per_class["n_items"].to_dict() == {"a": 2, "b": 1}
    assert per_class.loc["a", "two_random_agree"] == pytest.approx((1 / 3 + 1) / 2)
    assert np.isnan(per_class.loc["a", "loo_low"])  # n_boot=0: no intervals


def test_hlp_per_slice_from_a_metadata_frame_or_series():
    metadata = pd.DataFrame(
        {"device": ["phone", "phone", "laptop", None], "noise": ["car"] * 4}, index=[1, 2, 3, 4]
    )
    per_slice = human_level_performance(FRAME, gold=GOLD, slices=metadata, n_boot=100).per_slice
    phone = per_slice.loc[("device", "phone")]
    assert phone["hlp"] == pytest.approx(3 / 4)  # item1: z 0; item2: 1, 1, 1
    assert (phone["n_items"], phone["n_answers"], phone["loo_n"]) == (2, 6, 4)
    assert phone["two_random_agree"] == pytest.approx((1 / 3 + 1) / 2)
    assert per_slice.loc[("device", "laptop"), "hlp"] == 0.0
    assert per_slice.loc[("device", "(none)"), "n_items"] == 1  # item 4 has no device
    assert per_slice.loc[("noise", "car"), "hlp"] == pytest.approx(0.5)
    series = human_level_performance(FRAME, slices=metadata["device"], n_boot=0).per_slice
    assert list(series.index.get_level_values("field").unique()) == ["device"]
    assert human_level_performance(FRAME, n_boot=0).per_slice.empty


def test_bootstrap_intervals_are_seeded():
    a = human_level_performance(FRAME, gold=GOLD, n_boot=300, seed=5)
    b = human_level_performance(FRAME, gold=GOLD, n_boot=300, seed=5)
    pd.testing.assert_frame_equal(a.labelers, b.labelers)
    pd.testing.assert_series_equal(a.project, b.project)


def test_hlp_interval_covers_a_known_rate_on_simulated_labelers():
    rng = np.random.default_rng(0)
    items, labelers = 3000, 6
    truth = rng.integers(0, 2, items)
    rows = []
    for labeler in range(labelers):
        value = np.where(rng.random(items) < 0.9, truth, 1 - truth)
        rows.append(pd.DataFrame({"item": np.arange(items), "labeler": labeler, "value": value}))
    frame = pd.concat(rows, ignore_index=True)
    report = human_level_performance(frame, gold=pd.Series(truth), n_boot=500)
    # vs gold: 0.9 by construction
    assert report.project["gold_low"] <= 0.9 <= report.project["gold_high"]
    assert report.labelers["gold_accuracy"].to_numpy() == pytest.approx(0.9, abs=0.02)
    # two random labelers agree: 0.9² + 0.1² = 0.82
    assert report.project["two_random_agree"] == pytest.approx(0.82, abs=0.01)


def test_two_random_labelers_agree_counts_distinct_labelers():
    assert np.isnan(two_random_labelers_agree(pd.DataFrame({"item": [1], "labeler": [1], "value": ["a"]})))
    # x answered a, a, b on item 1 (shares 2/3, 1/3); y answered a: P(agree) = 2/3
    frame = pd.DataFrame(
        {"item": [1, 1, 1, 1], "labeler": ["x", "x", "x", "y"], "value": ["a", "a", "b", "a"]}
    )
    assert two_random_labelers_agree(frame) == pytest.approx(2 / 3)


def test_gap_to_hlp_table_is_sorted_by_potential():
    predictions = pd.Series({1: "a", 2: "b", 3: "a", 4: "a", 5: "a"})
    reference = pd.Series({1: "a", 2: "a", 3: "a", 4: "b", 5: None})
    slices = pd.Series({1: "clean", 2: "car noise", 3: "clean", 4: "car noise", 5: "clean"}, name="noise")
    hlp = pd.Series({"clean": 0.95, "car noise": 0.9})
    table = gap_to_hlp(predictions, reference, slices, hlp=hlp)
    assert list(table.columns) == [
        "field",
        "slice",
        "n_items",
        "model_accuracy",
        "hlp",
        "gap",
        "share",
        "potential",
    ]
    top = table.iloc[0]
    assert (top["field"], top["slice"], top["n_items"]) == ("noise", "car noise", 2)
    assert (
        top["model_accuracy"] == 0.0
        and top["gap"] == pytest.approx(0.9)
        and top["potential"] == pytest.approx(0.45)
    )
    # the model beats people on clean audio: a negative gap, last
    assert table.iloc[1]["gap"] == pytest.approx(-0.05)
    assert table["share"].sum() == pytest.approx(1.0)  # item 5 has no reference: not scored


def test_gap_to_hlp_computes_hlp_from_the_answers():
    metadata = pd.DataFrame({"device": ["phone", "phone", "laptop", "laptop"]}, index=[1, 2, 3, 4])
    predictions = pd.Series({1: "b", 2: "a", 3: "a", 4: "b"})
    reference = pd.Series({1: "a", 2: "a", 3: "b", 4: "b"})
    table = gap_to_hlp(predictions, reference, metadata, frame=FRAME).set_index("slice")
    assert table.loc["phone", "hlp"] == pytest.approx(3 / 4) and table.loc["phone", "model_accuracy"] == 0.5
    assert table.loc["phone", "potential"] == pytest.approx((3 / 4 - 1 / 2) * 1 / 2)
    with pytest.raises(ValueError, match="hlp per slice"):
        gap_to_hlp(predictions, reference, metadata)
    with pytest.raises(ValueError, match="prediction"):
        gap_to_hlp(pd.Series(dtype=object), reference, metadata, hlp=pd.Series({"phone": 1.0}))


def test_bad_input_raises_value_error():
    with pytest.raises(ValueError, match="empty"):
        human_level_performance(pd.DataFrame(columns=["item", "labeler", "value"]))
    with pytest.raises(ValueError, match="lacks columns"):
        leave_one_out(pd.DataFrame({"item": [1], "value": ["a"]}))
    single = pd.DataFrame({"item": [1, 2], "labeler": ["x", "x"], "value": ["a", "b"]})
    with pytest.raises(ValueError, match="at least 2 labelers"):
        human_level_performance(single)
    with pytest.raises(ValueError, match="at least 2 labelers"):
        leave_one_out(single)
    with pytest.raises(ValueError, match="n_boot"):
        human_level_performance(FRAME, n_boot=-1)
    with pytest.raises(ValueError, match="level"):
        human_level_performance(FRAME, level=1.5)
    with pytest.raises(ValueError, match="slices"):
        human_level_performance(FRAME, slices=[1, 2])


def test_gap_to_hlp_with_scores_sums_errors_over_totals_per_slice():
    # Word edits over reference words: slice "car" 3 edits in 4 words and 0 in 2 → 1 − 3/6.
    predictions = pd.Series({1: "a", 2: "b c", 3: "d"})
    reference = pd.Series({1: "a x y z", 2: "b c", 3: "d"})
    scores = pd.DataFrame({"errors": [3.0, 0.0, 0.0], "total": [4.0, 2.0, 1.0]}, index=[1, 2, 3])
    slices = pd.Series({1: "car", 2: "car", 3: "clear"}, name="noise")
    table = gap_to_hlp(
        predictions, reference, slices, hlp=pd.Series({"car": 0.9, "clear": 1.0}), scores=scores
    ).set_index("slice")
    assert table.loc["car", "model_accuracy"] == pytest.approx(0.5)
    assert table.loc["car", "gap"] == pytest.approx(0.4) and table.loc["clear", "gap"] == 0.0
    with pytest.raises(ValueError):
        gap_to_hlp(predictions, reference, slices, hlp=pd.Series({"car": 0.9}), scores=scores.iloc[:1])


@pytest.mark.parametrize("values", [[3, 1, 3, 2, 3, 1, 2, 2], ["a", "b", "a", "a", "b", "b", "c", "a"]])
def test_categorical_answers_give_the_same_hlp_as_objects(values):
    """A run reads its answers as a Categorical: the same figures, and the leave-one-out table
    and the confusions hold the same Python values (an int class stays an int)."""
    plain = pd.DataFrame(
        {
            "item": [1, 1, 1, 2, 2, 2, 3, 3],
            "labeler": [1, 2, 3, 1, 2, 3, 1, 2],
            "value": pd.Series(values, dtype=object),
        }
    )
    coded = plain.assign(value=pd.Categorical(values))
    expected = human_level_performance(plain, slices=pd.Series({1: "x", 2: "y"}), n_boot=50, seed=3)
    got = human_level_performance(coded, slices=pd.Series({1: "x", 2: "y"}), n_boot=50, seed=3)
    pd.testing.assert_frame_equal(leave_one_out(coded), leave_one_out(plain))
    assert type(leave_one_out(coded)["value"][0]) is type(values[0])
    pd.testing.assert_frame_equal(got.confusions, expected.confusions)
    assert len(got.confusions) and type(got.confusions["value"][0]) is type(values[0])
    assert type(got.confusions["reference"][0]) is type(values[0])
    pd.testing.assert_frame_equal(got.labelers, expected.labelers)
    pd.testing.assert_series_equal(got.project, expected.project)
    pd.testing.assert_frame_equal(got.per_class, expected.per_class)
    pd.testing.assert_frame_equal(got.per_slice, expected.per_slice)
