"""Percent agreement, Fleiss' kappa, AC1, pairwise Cohen's kappa, per-class agreement, confusions
and merge what-ifs."""

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from consistency.metrics.categorical import agreement
from consistency.metrics.categorical.agreement import (
    class_confusion,
    cohen_kappa_pairs,
    fleiss_kappa,
    gwet_ac1,
    item_pair_agreement,
    merge_gains,
    merge_what_if,
    per_class_agreement,
    percent_agreement,
)
from consistency.metrics.stats.alpha import alpha
from consistency.metrics.stats.counts import merge_counts, value_counts
from tests.consistency.metrics.agreement_data import K2011, K2011_CLASSES, frame_from_matrix


@pytest.fixture
def k2011_counts():
    return value_counts(frame_from_matrix(K2011), K2011_CLASSES).counts


def test_irrcac_values_on_krippendorff_2011(k2011_counts):
    assert percent_agreement(k2011_counts) == pytest.approx(0.8181818, abs=1e-6)
    assert fleiss_kappa(k2011_counts) == pytest.approx(0.76117, abs=5e-5)
    assert gwet_ac1(k2011_counts) == pytest.approx(0.77544, abs=5e-5)


def test_percent_agreement_is_the_share_of_agreeing_pairs_per_item():
    rng = np.random.default_rng(4)
    counts = rng.integers(0, 3, size=(50, 3))
    shares = []
    for row in counts:
        values = np.repeat(np.arange(3), row)
        if len(values) >= 2:
            shares.append(np.mean([a == b for a, b in combinations(values, 2)]))
    assert percent_agreement(counts) == pytest.approx(np.mean(shares))


def test_item_pair_agreement_per_item_averages_to_percent_agreement(k2011_counts):
    counts = np.array([[2, 1, 0], [1, 1, 0], [0, 0, 0], [0, 3, 0], [1, 0, 0]])
    agreement = item_pair_agreement(counts)
    assert agreement[0] == pytest.approx(1 / 3) and agreement[1] == 0.0 and agreement[3] == 1.0
    assert np.isnan(agreement[2]) and np.isnan(agreement[4])
    assert np.nanmean(item_pair_agreement(k2011_counts)) == pytest.approx(percent_agreement(k2011_counts))


def test_weights_equal_repeated_items(k2011_counts):
    weights = np.arange(12) % 3
    repeated = np.repeat(k2011_counts, weights, axis=0)
    for statistic in (percent_agreement, fleiss_kappa, gwet_ac1):
        assert statistic(k2011_counts, weights=weights) == pytest.approx(statistic(repeated))


def test_chance_corrected_coefficients_need_pairable_items_and_classes():
    with pytest.raises(ValueError, match="fewer than two items"):
        fleiss_kappa(np.array([[2, 0], [1, 0]]))
    with pytest.raises(ValueError, match="two classes"):
        gwet_ac1(np.array([[2], [3]]))
    assert np.isnan(fleiss_kappa(np.array([[2, 0], [3, 0]])))


def _cohen(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    classes = np.union1d(a, b)
    po = np.mean(a == b)
    pe = sum(np.mean(a == c) * np.mean(b == c) for c in classes)
    return (po - pe) / (1 - pe)


def test_cohen_kappa_matches_the_textbook_formula_for_every_pair():
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 3, 60)
    rows = [
        (item, labeler, "abc"[truth[item] if rng.random() < 0.7 else rng.integers(0, 3)])
        for labeler in ("ann", "bob", "cy", "dee")
        for item in range(60)
        if rng.random() < 0.8
    ]
    frame = pd.DataFrame(rows, columns=["item", "labeler", "value"])
    kappa, support = cohen_kappa_pairs(frame, ["a", "b", "c"])
    wide = frame.pivot(index="item", columns="labeler", values="value")
    for x, y in combinations(wide.columns, 2):
        both = wide[[x, y]].dropna()
        assert support.loc[x, y] == support.loc[y, x] == len(both)
        assert kappa.loc[x, y] == pytest.approx(_cohen(both[x], both[y]))
        assert kappa.loc[y, x] == pytest.approx(kappa.loc[x, y])
    assert np.isnan(np.diag(kappa.to_numpy())).all()
    assert support.loc["ann", "ann"] == wide["ann"].notna().sum()


def test_cohen_kappa_is_nan_for_pairs_sharing_too_few_items():
    frame = pd.DataFrame(
        [(1, "a", "x"), (1, "b", "y"), (2, "a", "y"), (2, "b", "y"), (3, "b", "x"), (3, "c", "x")],
        columns=["item", "labeler", "value"],
    )
    kappa, support = cohen_kappa_pairs(frame, ["x", "y"])
    assert support.loc["b", "c"] == 1 and np.isnan(kappa.loc["b", "c"])
    assert support.loc["a", "c"] == 0 and np.isnan(kappa.loc["a", "c"])
    assert kappa.loc["a", "b"] == pytest.approx(0.0)


def test_cohen_kappa_refuses_repeated_answers():
    frame = pd.DataFrame([(1, "a", "x"), (1, "a", "y"), (1, "b", "x")], columns=["item", "labeler", "value"])
    with pytest.raises(ValueError, match="more than once"):
        cohen_kappa_pairs(frame, ["x", "y"])
    with pytest.raises(ValueError, match="one labeler"):
        cohen_kappa_pairs(frame[frame["labeler"] == "a"], ["x", "y"])


def test_per_class_agreement_is_binary_alpha_with_support(k2011_counts):
    table = per_class_agreement(k2011_counts, K2011_CLASSES)
    assert table.index.tolist() == K2011_CLASSES
    assert table.loc[5, "alpha"] == pytest.approx(1.0)  # class 5: always given together
    assert table["support"].tolist() == [9, 13, 11, 5, 3]
    assert table["pairable"].tolist() == [9, 13, 10, 5, 3]  # unit 12's lone 3 is not pairable
    m = k2011_counts.sum(axis=1)
    binary = np.stack([k2011_counts[:, 1], m - k2011_counts[:, 1]], axis=1)
    assert table.loc[2, "alpha"] == pytest.approx(alpha(binary))


def test_class_confusion_counts_labeler_pairs_per_item():
    frame = frame_from_matrix(
        [["deep", "deep", "dent", "none", "shallow"], ["shallow", "deep", "dent", "none", "deep"]]
    )
    classes = ["deep", "shallow", "dent", "none"]
    counts = value_counts(frame, classes).counts
    confusion = class_confusion(counts, classes)
    assert confusion.loc["deep", "shallow"] == confusion.loc["shallow", "deep"] == 2
    assert confusion.loc["deep", "deep"] == 1 and confusion.loc["dent", "dent"] == 1
    assert confusion.loc["deep", "dent"] == 0
    assert confusion.to_numpy().dtype == np.int64


def test_merge_what_if_equals_alpha_of_merged_answers(k2011_counts):
    merged = merge_counts(k2011_counts, [[0, 1]])
    assert merge_what_if(k2011_counts, [[0, 1]]) == pytest.approx(alpha(merged))
    assert merge_what_if(k2011_counts, [[1, 2]], classes=K2011_CLASSES) == pytest.approx(alpha(merged))
    assert merge_what_if(k2011_counts, [[1, 2]], classes=K2011_CLASSES, level="ordinal") == pytest.approx(
        alpha(merged, "ordinal")
    )


def test_merging_classes_people_confuse_raises_alpha():
    frame = frame_from_matrix(
        [["deep", "deep", "dent", "none", "shallow"], ["shallow", "deep", "dent", "none", "deep"]]
    )
    classes = ["deep", "shallow", "dent", "none"]
    counts = value_counts(frame, classes).counts
    assert merge_what_if(counts, [["deep", "shallow"]], classes=classes) == pytest.approx(1.0)
    assert alpha(counts) < 0.7
    gains = merge_gains(counts, classes)
    assert (gains.loc[0, "class_a"], gains.loc[0, "class_b"]) == ("deep", "shallow")
    assert gains.loc[0, "alpha_after"] == pytest.approx(1.0)
    assert len(gains) == 6


def test_merge_gains_agree_with_merge_what_if(k2011_counts):
    gains = merge_gains(k2011_counts, K2011_CLASSES)
    for row in gains.itertuples():
        expected = merge_what_if(k2011_counts, [[row.class_a, row.class_b]], classes=K2011_CLASSES)
        assert row.alpha_after == pytest.approx(expected)


def test_merge_what_if_refuses_bad_requests(k2011_counts):
    with pytest.raises(ValueError, match="unknown classes"):
        merge_what_if(k2011_counts, [[1, 9]], classes=K2011_CLASSES)
    with pytest.raises(ValueError, match="adjacent"):
        merge_what_if(k2011_counts, [[1, 3]], classes=K2011_CLASSES, level="ordinal")
    with pytest.raises(ValueError, match="nominal and ordinal"):
        merge_what_if(k2011_counts, [[0, 1]], level="interval")


def test_cohen_kappa_in_blocks_of_items_equals_one_block(monkeypatch):
    """Large projects are summed a block of items at a time: the same kappas and supports,
    and a repeated answer in a later block is still refused."""
    rng = np.random.default_rng(7)
    rows = [
        (f"item-{i}", labeler, rng.choice(["a", "b", "c"], p=[0.6, 0.3, 0.1]))
        for i in rng.permutation(60)
        for labeler in rng.choice(["ann", "bob", "cy", "dee"], size=int(rng.integers(1, 5)), replace=False)
    ]
    frame = pd.DataFrame(rows, columns=["item", "labeler", "value"])
    whole = cohen_kappa_pairs(frame, ["a", "b", "c"])
    monkeypatch.setattr(agreement, "KAPPA_BLOCK", 7)
    blocks = cohen_kappa_pairs(frame, ["a", "b", "c"])
    pd.testing.assert_frame_equal(blocks.kappa, whole.kappa, check_exact=True)
    pd.testing.assert_frame_equal(blocks.support, whole.support, check_exact=True)
    assert whole.support.to_numpy().sum() > 0 and np.isfinite(whole.kappa.to_numpy()).any()
    repeated = pd.concat([frame, frame.iloc[[-1]].assign(value="c")], ignore_index=True)
    with pytest.raises(ValueError, match="more than once"):
        cohen_kappa_pairs(repeated, ["a", "b", "c"])
