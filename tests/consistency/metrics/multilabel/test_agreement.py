"""Multi-class answers: per-class binary alpha, support-weighted overall alpha, Jaccard alpha."""

import numpy as np
import pandas as pd
import pytest

from consistency.metrics.multilabel.agreement import (
    jaccard_alpha,
    jaccard_distance,
    multilabel_agreement,
    multilabel_counts,
    multilabel_per_class,
)
from consistency.metrics.stats.alpha import alpha, alpha_from_pairwise

CLASSES = ["x", "y", "z"]


def frame(rows):
    return pd.DataFrame(rows, columns=["item", "labeler", "value"])


@pytest.fixture
def answers():
    return frame(
        [
            (1, "a", ["x", "y"]),
            (1, "b", ["x"]),
            (2, "a", ["y"]),
            (2, "b", ["y", "y"]),  # a repeated class counts once
            (3, "a", []),
            (3, "b", ["z"]),
            (4, "a", None),  # no class chosen
            (4, "b", "x"),  # a bare class name is a one-class answer
            (5, "a", ["x"]),
        ]
    )


def test_counts_per_item_and_class(answers):
    tallies = multilabel_counts(answers, CLASSES)
    assert tallies.items.tolist() == [1, 2, 3, 4, 5]
    assert tallies.chosen.tolist() == [[2, 1, 0], [0, 2, 0], [0, 0, 1], [1, 0, 0], [1, 0, 0]]
    assert tallies.answers.tolist() == [2, 2, 2, 2, 1]
    assert tallies.masks.tolist() == [0b011, 0b001, 0b010, 0b010, 0b000, 0b100, 0, 0b001, 0b001]


def test_per_class_alpha_is_binary_alpha_of_chosen_vs_not(answers):
    table = multilabel_per_class(answers, CLASSES)
    tallies = multilabel_counts(answers, CLASSES)
    for c, name in enumerate(CLASSES):
        binary = np.stack([tallies.chosen[:, c], tallies.answers - tallies.chosen[:, c]], axis=1)
        assert table.loc[name, "alpha"] == pytest.approx(alpha(binary))
    assert table["support"].tolist() == [4, 3, 1]


def test_overall_alpha_is_the_support_weighted_mean(answers):
    result = multilabel_agreement(answers, CLASSES)
    per_class = pd.DataFrame(result["per_class"]).set_index("class")
    expected = np.average(per_class["alpha"], weights=per_class["support"])
    assert result["alpha"] == pytest.approx(expected)
    assert result["items_measured"] == 4
    assert result["consensus"] == [["x"], ["y"], [], [], ["x"]]
    # item 1: x agreed, y disagreed, z agreed (both not chosen) → 2 of 3 decisions agree
    assert result["item_agreement"][0] == pytest.approx(2 / 3) and np.isnan(result["item_agreement"][4])


def test_jaccard_alpha_equals_pairwise_alpha_over_sets(answers):
    sets = [
        [frozenset(["x", "y"]), frozenset(["x"])],
        [frozenset(["y"])] * 2,
        [frozenset(), frozenset(["z"])],
    ]
    sets.append([frozenset(), frozenset(["x"])])

    def jaccard(a, b):
        return 1 - len(a & b) / len(a | b) if a | b else 0.0

    assert jaccard_alpha(answers, CLASSES) == pytest.approx(alpha_from_pairwise(sets, jaccard))


def test_jaccard_alpha_without_bit_masks_gives_the_same(answers, monkeypatch):
    packed = jaccard_alpha(answers, CLASSES)
    monkeypatch.setattr("consistency.metrics.multilabel.agreement.MAX_BITMASK_CLASSES", 1)
    assert multilabel_counts(answers, CLASSES).masks is None
    assert jaccard_alpha(answers, CLASSES) == pytest.approx(packed)


def test_jaccard_distance_of_bit_masks():
    d = jaccard_distance(np.array([0b011, 0, 0b100, 0b111]), np.array([0b001, 0, 0b011, 0b111]))
    assert d.tolist() == pytest.approx([0.5, 0.0, 1.0, 0.0])


def test_perfect_agreement():
    same = frame([(i, lab, ["x", "z"] if i % 2 else ["y"]) for i in range(4) for lab in ("a", "b", "c")])
    result = multilabel_agreement(same, CLASSES)
    assert result["alpha"] == pytest.approx(1.0) and result["jaccard_alpha"] == pytest.approx(1.0)


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="outside the schema"):
        multilabel_agreement(frame([(1, "a", ["w"]), (1, "b", ["x"])]), CLASSES)
    with pytest.raises(ValueError, match="empty"):
        multilabel_agreement(frame([]), CLASSES)
    with pytest.raises(ValueError, match="one labeler"):
        jaccard_alpha(frame([(1, "a", ["x"]), (1, "a", ["y"])]), CLASSES)


def test_multilabel_per_class_and_overall():
    frame = pd.DataFrame(
        [
            (1, "a", ["x", "y"]),
            (1, "b", ["x"]),
            (2, "a", ["y"]),
            (2, "b", ["y"]),
            (3, "a", []),
            (3, "b", ["z"]),
        ],
        columns=["item", "labeler", "value"],
    )
    result = multilabel_agreement(frame, ["x", "y", "z"])
    per_class = {r["class"]: r for r in result["per_class"]}
    assert per_class["x"]["support"] == 2 and per_class["x"]["alpha"] == pytest.approx(1.0)
    assert per_class["y"]["alpha"] < 1
    assert result["consensus"][0] == ["x"] and result["consensus"][1] == ["y"]
    with pytest.raises(ValueError, match="outside the schema"):
        multilabel_agreement(pd.DataFrame([(1, "a", ["w"])], columns=["item", "labeler", "value"]), ["x"])
