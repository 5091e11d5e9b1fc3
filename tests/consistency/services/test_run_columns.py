"""The run's column path (answers read with COPY into numpy, results built as arrays and
COPYed into the run's own partition) against a plain-Python reference on random projects:
skips, superseded answers, gold, and class names that CSV and COPY treat specially."""

import random
from collections import Counter

import pandas as pd
import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consistency.models import AgreementRun, ItemResult, RunStatus
from consistency.selectors.annotations import annotations_frame
from consistency.selectors.labels import item_label
from consistency.services.agreement_runs import agreement_run_compute
from consistency.services.measure import publish, result_rows
from labeling.models import Annotation, Assignment, Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db

# Commas, quotes, a backslash-N (COPY's NULL marker), a newline-free unicode name.
CLASSES = ["a,b", 'say "hi"', "\\N", "café ✓", "none"]


def _answer(project, item, labeler, value, *, skip="", current=True, supersedes=None):
    assignment, _ = Assignment.objects.get_or_create(
        project=project, item=item, labeler=labeler, defaults={"status": "submitted"}
    )
    return Annotation.objects.create(
        assignment=assignment,
        item=item,
        labeler=labeler,
        schema_version=project.schema_version,
        value=None if skip else value,
        skip_reason=skip,
        is_current=current,
        supersedes=supersedes,
        created_at=timezone.now(),
    )


def _build(seed: int, n_items: int, n_labelers: int):
    rng = random.Random(seed)
    project = ProjectFactory(name=f"columns {seed}", classes=CLASSES)
    labelers = [MembershipFactory(project=project, role=Role.LABELER).user for _ in range(n_labelers)]
    items = [ItemFactory(project=project) for _ in range(n_items)]
    expected: dict[int, dict] = {}
    for item in items:
        values, skips = [], 0
        for labeler in labelers:
            roll = rng.random()
            if roll < 0.2:
                continue  # this labeler never saw the item
            if roll < 0.3:
                _answer(project, item, labeler, None, skip="unclear")
                skips += 1
                continue
            value = rng.choice(CLASSES)
            if rng.random() < 0.2:  # an older answer, superseded: must not count
                old = _answer(project, item, labeler, rng.choice(CLASSES), current=False)
                _answer(project, item, labeler, value, supersedes=old)
            else:
                _answer(project, item, labeler, value)
            values.append(value)
        expected[item.id] = {"values": values, "skips": skips}
    gold = {item.id for item in items if rng.random() < 0.15}
    for item in items:
        if item.id in gold:
            item.is_gold, item.gold_value = True, rng.choice(CLASSES)
            item.save(update_fields=["is_gold", "gold_value"])
    return project, expected, gold


def _reference(values: list[str]) -> dict:
    """An item's figures from its answers, in plain Python."""
    counts = Counter(values)
    ordered = sorted(counts, key=lambda c: (-counts[c], CLASSES.index(c)))
    top = counts[ordered[0]]
    tie = sum(1 for c in counts if counts[c] == top) > 1
    n = len(values)
    agreement = sum(k * (k - 1) for k in counts.values()) / (n * (n - 1)) if n >= 2 else None
    return {
        "n_answers": n,
        "consensus": None if tie else ordered[0],
        "confidence": top / n,
        "is_tie": tie,
        "agreement": agreement,
        "disagreement": 0.0 if agreement is None else round(1.0 - agreement, 6),
        "first_class": ordered[0],
        "second_class": ordered[1] if len(ordered) > 1 else "",
    }


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 10_000), n_items=st.integers(3, 25), n_labelers=st.integers(2, 5))
def test_run_results_equal_a_plain_python_reference(seed, n_items, n_labelers):
    project, expected, gold = _build(seed, n_items, n_labelers)
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error

    rows = {r.item_id: r for r in ItemResult.objects.filter(run=run)}
    answered = {item_id for item_id, e in expected.items() if e["values"]}
    assert set(rows) == answered
    for item_id in answered:
        row, want = rows[item_id], _reference(expected[item_id]["values"])
        assert row.n_skipped == expected[item_id]["skips"]
        for name, value in want.items():
            got = getattr(row, name)
            assert got == (pytest.approx(value) if isinstance(value, float) else value), (name, item_id)
        assert row.by_method["majority"] == {"value": want["consensus"], "confidence": want["confidence"]}
        assert row.by_method["dawid_skene"]["value"] in [*CLASSES, None]  # None: its posterior ties
        if item_id in gold:  # its rows score the answers; a decided label reads as 1.0
            assert item_label(project=project, item=row.item).label_quality == 1.0
    assert run.report["counts"]["answers"] == sum(len(e["values"]) for e in expected.values())
    assert run.report["counts"]["skipped_answers"] == sum(e["skips"] for e in expected.values())


def test_run_results_live_in_the_runs_own_partition():
    project, expected, _ = _build(7, 12, 3)
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM consistency_itemresult_run_{int(run.id)}")  # noqa: S608 (an int)
        in_partition = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM consistency_itemresult_default WHERE run_id = %s", [run.id])
        in_default = cursor.fetchone()[0]
    assert in_partition == sum(1 for e in expected.values() if e["values"]) and in_default == 0
    # The partition came with the parent's indexes, each adopted by the attach: none built twice.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT x.indexrelid::regclass::text, p.inhparent::regclass::text FROM pg_index x "
            "LEFT JOIN pg_inherits p ON p.inhrelid = x.indexrelid WHERE x.indrelid = %s::regclass",
            [f"consistency_itemresult_run_{int(run.id)}"],
        )
        adopted = dict(cursor.fetchall())
        cursor.execute(
            "SELECT indexrelid::regclass::text FROM pg_index "
            "WHERE indrelid = 'consistency_itemresult'::regclass"
        )
        parents = {row[0] for row in cursor.fetchall()}
    assert None not in adopted.values() and set(adopted.values()) == parents and len(adopted) == len(parents)
    assert parents == {
        "itemresult_unique_item_run",
        "itemresult_run_disagreement",
        "itemresult_run_queue_order",
        "itemresult_run_class_pair",
        "itemresult_run_label_quality",
    }
    # A redelivered run publishes again: the partition is replaced, never doubled.
    AgreementRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)
    agreement_run_compute(run_id=run.id)
    assert ItemResult.objects.filter(run=run).count() == in_partition


def test_published_rows_take_ids_no_other_row_has():
    """Publishing reserves a block of ids from the table's sequence: no two rows of any run
    share an id, and a row inserted afterwards through the ORM gets a fresh one."""
    project, expected, _ = _build(11, 10, 3)
    runs = []
    for _ in range(2):
        run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
        agreement_run_compute(run_id=run.id)
        runs.append(run)
    ids = list(ItemResult.objects.filter(run__in=runs).values_list("id", flat=True))
    assert len(ids) == 2 * sum(1 for e in expected.values() if e["values"]) == len(set(ids))
    later = ItemResult.objects.create(run=runs[0], item=ItemFactory(project=project), n_answers=0)
    assert later.id > max(ids)


def test_answers_frame_shares_one_object_per_distinct_value():
    """No per-answer Python objects: answers with the same value share one object."""
    project, expected, _ = _build(3, 30, 4)
    frame = annotations_frame(project=project, schema_version=project.schema_version)
    answered = frame[~frame["skipped"]]
    assert len(answered) == sum(len(e["values"]) for e in expected.values())
    assert len({id(v) for v in answered["value"]}) <= len(CLASSES)
    assert frame["item"].dtype.kind == "i" and frame["labeler"].dtype.kind == "i"
    assert int(frame["skipped"].sum()) == sum(e["skips"] for e in expected.values())
    by_item = answered.groupby("item")["value"].apply(sorted).to_dict()
    assert by_item == {i: sorted(e["values"]) for i, e in expected.items() if e["values"]}


def test_answers_frame_as_class_codes_holds_the_same_values():
    """Read as a Categorical (classes and ratings), the answers are the same values, row for
    row, with skipped answers missing, and each class one category."""
    project, _, _ = _build(4, 30, 3)
    plain = annotations_frame(project=project, schema_version=project.schema_version)
    coded = annotations_frame(project=project, schema_version=project.schema_version, categorical=True)
    assert isinstance(coded["value"].dtype, pd.CategoricalDtype)
    assert set(coded["value"].cat.categories) <= set(CLASSES)
    assert coded["value"].isna().tolist() == plain["value"].isna().tolist()
    values = coded["value"].astype(object)
    assert values.where(values.notna(), None).tolist() == plain["value"].tolist()
    assert coded.drop(columns="value").equals(plain.drop(columns="value"))


def test_answers_read_in_blocks_equal_the_orm_read(monkeypatch):
    """The answers' COPY (blocks of answers as tab-separated text, parsed without quoting) holds what
    the ORM read gives, answer for answer, for values that text formats treat specially: tabs,
    newlines, quotes and backslashes inside strings, JSON null against a skip's SQL NULL, the
    texts "null" and "", lists, boxes and numbers; with blocks of two answers and chunks of a
    few bytes, so that every block and chunk boundary is crossed."""
    from consistency.selectors import annotations, answer_blocks

    project = ProjectFactory(name="odd answers", classes=CLASSES)
    labelers = [MembershipFactory(project=project, role=Role.LABELER).user for _ in range(3)]
    odd = [
        "tab\there", "two\nlines", 'say "hi"', "back\\slash", "\\N", "null", "", "café ✓", None,
        ["a", "b\tc"], [{"class": "x", "box": [0, 1.5, 2, 3]}], 3, 2.5, True, {"k": "v\n"},
    ]  # fmt: skip
    items = []
    for n, value in enumerate(odd):
        item = ItemFactory(project=project)
        items.append(item)
        _answer(project, item, labelers[n % 3], value)
        _answer(project, item, labelers[(n + 1) % 3], None, skip="unclear")
    monkeypatch.setattr(answer_blocks, "ANSWER_BLOCK_SHIFT", 1)
    monkeypatch.setattr(answer_blocks, "COPY_CHUNK_BYTES", 64)
    copied = annotations._copy_answers(project_id=project.id)
    read = annotations._orm_answers(project_id=project.id)

    def rows(columns):
        pairs = columns.pairs
        return sorted(
            (int(i), int(labeler), bool(skip), pairs[key][0], pairs[key][1])
            for i, labeler, skip, key in zip(
                columns.items, columns.labelers, columns.skipped, columns.keys, strict=True
            )
        )

    def decoded(rows):
        import json

        return [(*row[:4], None if row[4] is None else json.loads(row[4])) for row in rows]

    assert len(copied.items) == 2 * len(odd)
    assert decoded(rows(copied)) == decoded(rows(read))
    frame = annotations_frame(project=project, schema_version=project.schema_version)
    answered = frame[~frame["skipped"]].set_index("item")["value"]
    assert [answered[item.id] for item in items] == odd


def test_item_slices_through_copy_equal_the_orm_read():
    """The slices read with COPY hold what the ORM read gives: texts as they are (empty, a
    NULL marker, commas, quotes, newlines), numbers and booleans as JSON text, None where an
    item lacks the field; private fields ("_…") are not slices."""
    from consistency.selectors import annotations

    project = ProjectFactory(name="slices", classes=CLASSES)
    odd = ["", "\\N", "a,b", 'say "hi"', "two\nlines", "café ✓", "NULL", "nan"]
    for i, text in enumerate(odd):
        ItemFactory(project=project, metadata={"site": text, "batch": i, "ok": i % 2 == 0, "_truth": "x"})
    ItemFactory(project=project, metadata={"site": "only site"})
    ItemFactory(project=project, metadata={})
    copied = annotations.item_slices(project=project)
    read = annotations._orm_slices(project_id=project.id, keys=list(copied.columns))  # SQLite's path
    assert list(copied.columns) == ["batch", "ok", "site"] and len(copied) == len(odd) + 2
    pd.testing.assert_frame_equal(copied.sort_index(), read.sort_index())
    assert copied["site"].tolist()[: len(odd)] == odd
    assert copied["batch"].tolist()[-2:] == [None, None]


ALL_COLUMNS = ("id", "item_id", *result_rows.TAIL_COLUMNS)


def _partition_rows(run_id: int) -> list[tuple]:
    """Every column of the run's rows, JSON as text, in the table's physical order."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(ALL_COLUMNS)} FROM {publish.partition_table(run_id)} ORDER BY ctid"  # noqa: S608 (names)
        )
        return cursor.fetchall()


@pytest.mark.parametrize("seed", [3, 19])
def test_joined_insert_and_copy_load_the_same_rows(seed, monkeypatch):
    """A run with few distinct result rows is inserted joined to them; one with many goes
    through COPY: the same values either way (NULLs, ties, awkward class names), ids in the
    results' order, rows stored in that order."""
    project, expected, _ = _build(seed, 20, 4)
    loaded = {}
    for path, limit in (("joined", publish.MAX_JOINED_TAILS), ("copy", 0)):
        monkeypatch.setattr(publish, "MAX_JOINED_TAILS", limit)
        used = []
        monkeypatch.setattr(publish, "tails_insert", _spy(publish.tails_insert, used))
        run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
        agreement_run_compute(run_id=run.id)
        run.refresh_from_db()
        assert run.status == RunStatus.SUCCEEDED, run.error
        assert bool(used) == (path == "joined")
        rows = _partition_rows(run.id)
        ids = [row[0] for row in rows]
        assert ids == sorted(ids) and ids == list(range(ids[0], ids[0] + len(ids)))
        assert [row[1] for row in rows] == sorted(row[1] for row in rows)  # item order
        loaded[path] = [row[1:] for row in rows]
        monkeypatch.undo()
    assert len(loaded["joined"]) == sum(1 for e in expected.values() if e["values"])
    assert loaded["joined"] == loaded["copy"]
    consensus = ALL_COLUMNS.index("consensus") - 1
    assert any(row[consensus] is None for row in loaded["joined"])  # a tie: NULL went through


def _spy(function, calls: list):
    def spied(*args, **kwargs):
        calls.append(1)
        return function(*args, **kwargs)

    return spied


def test_answers_read_by_item_range_or_join_hold_only_the_projects_answers(monkeypatch):
    """A project whose items hold every id of their range is read by that range (no join with
    its items), a large one as two halves side by side; one whose range holds another project's
    items is read through the join. Either way the read holds the project's current answers and
    nothing of the other project's."""
    from consistency.selectors import annotations, answer_blocks

    interleaved = ProjectFactory(name="interleaved", classes=CLASSES)
    other = ProjectFactory(name="other", classes=CLASSES)
    labelers = [MembershipFactory(project=p, role=Role.LABELER).user for p in (interleaved, other)]
    for n in range(6):  # ids alternate between the two projects
        for project, labeler in zip((interleaved, other), labelers, strict=True):
            _answer(project, ItemFactory(project=project), labeler, CLASSES[n % len(CLASSES)])
    contiguous = ProjectFactory(name="contiguous", classes=CLASSES)
    labeler = MembershipFactory(project=contiguous, role=Role.LABELER).user
    for n in range(5):
        item = ItemFactory(project=contiguous)
        old = _answer(contiguous, item, labeler, CLASSES[0], current=False)
        _answer(contiguous, item, labeler, CLASSES[n % len(CLASSES)], supersedes=old)
    chosen = []
    parts_of = answer_blocks.answers_parts

    def spy(cursor, project_id):
        chosen.append(parts_of(cursor, project_id))
        return chosen[-1]

    monkeypatch.setattr(answer_blocks, "answers_parts", spy)
    monkeypatch.setattr(answer_blocks, "ANSWER_BLOCK_SHIFT", 2)

    def rows(columns):
        import json

        return sorted(
            (int(i), int(labeler), json.loads(columns.pairs[key][1]))
            for i, labeler, key in zip(columns.items, columns.labelers, columns.keys, strict=True)
        )

    for project, split_from, expected in (
        (interleaved, 2, [answer_blocks.BY_PROJECT]),
        (contiguous, 100, [answer_blocks.BY_ITEM_RANGE]),
        (contiguous, 2, [answer_blocks.BY_ITEM_RANGE] * 2),  # two halves of its range
    ):
        monkeypatch.setattr(answer_blocks, "SPLIT_FROM_ITEMS", split_from)
        copied = annotations._copy_answers(project_id=project.id)
        assert [where for where, _ in chosen[-1]] == expected
        assert rows(copied) == rows(annotations._orm_answers(project_id=project.id))
        assert set(copied.items.tolist()) == set(project.items.values_list("id", flat=True))
    halves = [params for _, params in chosen[-1]]
    assert halves[0][1] + 1 == halves[1][0]  # adjacent, no item read twice
    assert len(annotations._copy_answers(project_id=interleaved.id).items) == 6
