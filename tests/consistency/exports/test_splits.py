import random
from collections import Counter

import pytest

from consistency.exports.splits import BatchSplitAssigner, SplitAssigner, parse_split_spec, weighted_sequence


def _split(items: list[tuple[int, str]], spec: str, seed: int) -> dict[int, str]:
    assigner = SplitAssigner(parse_split_spec(spec), seed)
    return {item: assigner.assign(stratum) for item, stratum in sorted(items)}


def test_course_example_gives_18_6_6_positives_for_every_seed():
    items = [(i, "1" if i < 30 else "0") for i in range(100)]
    for seed in range(25):
        splits = _split(items, "train:60,dev:20,test:20", seed)
        positives = Counter(splits[i] for i, s in items if s == "1")
        negatives = Counter(splits[i] for i, s in items if s == "0")
        assert positives == {"train": 18, "dev": 6, "test": 6}
        assert negatives == {"train": 42, "dev": 14, "test": 14}


def test_skewed_multiclass_strata_stay_within_one_item_of_exact():
    sizes = {"none": 913, "dent": 57, "deep scratch": 21, "shallow scratch": 9}
    items, n = [], 0
    for label, size in sizes.items():
        for _ in range(size):
            items.append((n, label))
            n += 1
    splits = _split(items, "train:80,dev:10,test:10", seed=7)
    for label, size in sizes.items():
        counts = Counter(splits[i] for i, s in items if s == label)
        for name, share in (("train", 0.8), ("dev", 0.1), ("test", 0.1)):
            assert abs(counts[name] - size * share) <= 1, (label, counts)


def test_growing_the_project_never_moves_old_items():
    old = [(i, "1" if i % 3 == 0 else "0") for i in range(200)]
    new = old + [(i, "1" if i % 2 == 0 else "0") for i in range(200, 500)]
    before = _split(old, "train:80,dev:10,test:10", seed=3)
    after = _split(new, "train:80,dev:10,test:10", seed=3)
    assert all(after[i] == split for i, split in before.items())


def test_seed_changes_the_assignment_but_not_the_counts():
    items = [(i, "x") for i in range(50)]
    a = _split(items, "train:60,dev:20,test:20", seed=1)
    b = _split(items, "train:60,dev:20,test:20", seed=2)
    assert a != b
    assert Counter(a.values()) == Counter(b.values())


def test_sequence_is_smooth():
    seq = weighted_sequence(parse_split_spec("train:60,dev:20,test:20"))
    assert sorted(Counter(seq).values()) == [1, 1, 3]
    assert seq[0] == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("train:80,dev:10", "sum to 100"),
        ("train:80,dev:30,test:-10", "name:percent"),
        ("train:90,foo:10", "Unknown split"),
        ("train:50,train:50", "twice"),
        ("train:100,dev:0", "positive"),
        ("train=80", "name:percent"),
    ],
)
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_split_spec(spec)


@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_batches_assign_the_splits_one_by_one_assignment_gives(batch):
    """The export's fast path assigns a batch of rows at a time: the same splits, row for row."""
    rng = random.Random(batch)
    strata = [rng.choice(["a", "b", '"c"', "null", "ü"]) for _ in range(2500)]
    spec = parse_split_spec("train:60,dev:25,test:15")
    one = SplitAssigner(spec, seed=9)
    expected = [one.assign(stratum) for stratum in strata]
    many = BatchSplitAssigner(spec, seed=9)
    got = []
    for start in range(0, len(strata), batch):
        part = [many.stratum_index(stratum) for stratum in strata[start : start + batch]]
        got += [spec.names[pick] for pick in many.assign(part)]
    assert got == expected
    assert set(got) == {"train", "dev", "test"}
