"""The Export page's preview counts what the export writes: rows and class balance per split,
read from per-label counts (``exports.strata``) rather than the stream, on a project one merge
behind its first version with resolutions, gold, an item that lacks information and answers
given after the run; the data browser's split filter lists the export's own split, page by
page, from any point of the project."""

import dataclasses
import json
from collections import Counter
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.http import QueryDict
from django.utils import timezone

from consistency.exports import strata
from consistency.exports.params import parse_export_params
from consistency.exports.stream import export_stream
from consistency.selectors import export_preview as preview_module
from consistency.selectors.browse import BrowseFilters, browse_page
from consistency.services.reviews import review_act
from labeling.models import Annotation, Item
from tests.helpers import agreement_run_now, phone_defects_merged

pytestmark = pytest.mark.django_db


@pytest.fixture
def touched():
    """Phone defects after a merge and a run on v2, then decisions, an answer since and gold
    values unlike the consensus."""
    project, _, reviewer = phone_defects_merged()
    # The answers were given an hour ago, so the run's figures hold for the untouched items.
    Annotation.objects.filter(item__project=project).update(created_at=timezone.now() - timedelta(hours=1))
    _run(project)
    items = list(Item.objects.filter(project=project).order_by("id"))
    assert len(items) >= 20 and any(i.is_gold for i in items)
    for item, value in ((items[3], "dent"), (items[8], "none"), (items[15], "scratch")):
        review_act(
            project=project, item=item, actor=reviewer, action="resolve", expected_version=0, value=value
        )
    for item in (items[5], items[11], items[-2]):
        review_act(project=project, item=item, actor=reviewer, action="lacks_information", expected_version=0)
    # An answer changed after the run: that item's consensus is computed live.
    answer = Annotation.objects.filter(item=items[6], is_current=True, skip_reason="").first()
    Annotation.objects.filter(pk=answer.pk).update(value="dent", created_at=timezone.now())
    # Gold values moved to the next class: a gold item's label then comes from its item row,
    # not from its answers' consensus (which matches the old gold value).
    classes = [c.name for c in project.schema_version.classes.order_by("id")]
    for item in (i for i in items if i.is_gold and i.gold_value in classes):
        following = classes[(classes.index(item.gold_value) + 1) % len(classes)]
        Item.objects.filter(pk=item.pk).update(gold_value=following, gold_version=project.schema_version)
    cache.clear()
    return project


def _run(project) -> None:
    """The run the merge asked for (or a new one), computed here."""
    from consistency.models import AgreementRun
    from consistency.services.agreement_runs import agreement_run_compute

    pending = AgreementRun.objects.filter(project=project, status__in=["pending", "running"]).first()
    if pending is None:
        agreement_run_now(project)
        return
    AgreementRun.objects.filter(pk=pending.pk).update(schema_version=project.schema_version)
    agreement_run_compute(run_id=pending.id)
    pending.refresh_from_db()
    assert pending.status == "succeeded", pending.error


def _params(query: str):
    return parse_export_params(QueryDict(query))


def _export_counts(project, params, *, fast: bool) -> dict[str, Counter]:
    _, stream = export_stream(project=project, params=dataclasses.replace(params, format="jsonl"), fast=fast)
    counts: dict[str, Counter] = {}
    for line in b"".join(stream).decode().splitlines():
        row = json.loads(line)
        label = row["label"] if row["label"] is not None else "(no consensus)"
        counts.setdefault(row["split"] or "all", Counter())[label] += 1
    return counts


def _preview_counts(project, params) -> dict[str, Counter]:
    preview = preview_module.export_preview(project=project, params=params)
    return {s["name"]: Counter({c: n for c, n, _ in s["classes"]}) for s in preview["splits"] if s["rows"]}


QUERIES = [
    "",
    "split=train:80,dev:10,test:10",
    "split=train:50,test:50&seed=7",
    "split=train:60,dev:20,test:20&seed=3&include=lacks_information",
    "split=train:70,test:30&exclude=unresolved",
    "exclude=borderline,unresolved",
]


def test_preview_counts_equal_the_export_rows(touched, monkeypatch):
    """Every query, with blocks small enough to put the touched items in many blocks (each
    position then read across them) and as large as in production. One project for all: the
    demo takes most of the test's time."""

    def streamed(**kwargs):
        raise AssertionError("the preview streamed the export")

    monkeypatch.setattr(preview_module, "_stream_counts", streamed)
    for query in QUERIES:
        params = _params(query)
        expected = _export_counts(touched, params, fast=True)
        assert expected == _export_counts(touched, params, fast=False), query
        for block in (2, 5, 2000):
            monkeypatch.setattr(strata, "BLOCK", block)
            assert _preview_counts(touched, params) == expected, (query, block)


def test_preview_reads_the_touched_items_not_the_project(touched, django_assert_max_num_queries):
    params = _params("split=train:80,dev:10,test:10")
    preview_module.export_preview(project=touched, params=params)  # fills the per-run counts
    with django_assert_max_num_queries(12):
        preview = preview_module.export_preview(project=touched, params=params)
    listed = sum(sum(c.values()) for c in _export_counts(touched, params, fast=True).values())
    assert preview["rows"] == listed


def test_filters_and_a_new_decision_count_the_export_rows(touched, django_user_model):
    """Filters on the answers' figures count the export itself; a decision moves the counts at
    once."""
    for query in ("min_agreement=0.6&split=train:50,test:50", "exclude=ties&split=train:50,test:50"):
        params = _params(query)
        assert _preview_counts(touched, params) == _export_counts(touched, params, fast=True), query
    params = _params("split=train:50,test:50")
    before = _preview_counts(touched, params)
    item = Item.objects.filter(project=touched, review__isnull=True, is_gold=False).order_by("id").last()
    reviewer = django_user_model.objects.get(username="reviewer")
    review_act(project=touched, item=item, actor=reviewer, action="lacks_information", expected_version=0)
    after = _preview_counts(touched, params)
    assert sum(sum(c.values()) for c in after.values()) == sum(sum(c.values()) for c in before.values()) - 1
    assert after == _export_counts(touched, params, fast=True)


def _browse_ids(project, split: str, spec: str, seed: int, *, page: int) -> list[int]:
    filters = BrowseFilters(split=split, split_spec=spec, seed=seed)
    ids, after = [], None
    while True:
        result = browse_page(project=project, filters=filters, after=after, limit=page)
        ids += [row["item"].id for row in result["rows"]]
        after = result["next_after"]
        if after is None:
            return ids


def test_browser_split_pages_list_the_export_split(touched, monkeypatch):
    """Forwards from the start and backwards from the end, three items a page, the items of
    each split in the export's order, never walking the export from its first row. With a walk
    of two run results a step, a forward page reads the rest of the touched items as it walks
    past its first chunk."""
    from consistency.selectors import browse_split

    def walked(**kwargs):
        raise AssertionError("the page walked the export from the first item")

    monkeypatch.setattr(browse_split, "_ids_in_split", walked)
    for spec, seed in (("train:80,dev:10,test:10", 0), ("train:50,test:50", 5)):
        params = _params(f"split={spec}&seed={seed}")
        _, stream = export_stream(project=touched, params=params)
        rows = [json.loads(line) for line in b"".join(stream).decode().splitlines()]
        for block, walk in ((3, 2), (2000, 2000)):
            monkeypatch.setattr(strata, "BLOCK", block)
            monkeypatch.setattr(browse_split, "WALK", walk)
            for split in params.split.names:
                expected = [r["item_id"] for r in rows if r["split"] == split]
                assert _browse_ids(touched, split, spec, seed, page=3) == expected, (spec, block, split)
                filters = BrowseFilters(split=split, split_spec=spec, seed=seed)
                back, before = [], max(r["item_id"] for r in rows) + 1
                while before is not None:
                    result = browse_page(project=touched, filters=filters, before=before, limit=3)
                    back = [row["item"].id for row in result["rows"]] + back
                    before = result["prev_before"]
                assert back == expected, (spec, block, split)


def test_a_first_split_page_reads_the_touched_items_it_walks_not_all(touched, monkeypatch):
    """The touched items' rows are most of a split page's time at scale: a page near the start
    reads those up to the end of its first chunk of run results, the later ones only if it
    walks on."""
    from consistency.selectors import browse_split
    from consistency.selectors.labels import label_context

    every = strata.touched_ids(project=touched, ctx=label_context(project=touched))
    read: list[int] = []

    def spied(**kwargs):
        ids = real(**kwargs)
        read.extend(ids)
        return ids

    real = strata.touched_ids
    monkeypatch.setattr(strata, "touched_ids", spied)
    monkeypatch.setattr(browse_split, "WALK", 12)
    filters = BrowseFilters(split="train", split_spec="train:80,dev:10,test:10")
    page = browse_page(project=touched, filters=filters, limit=2)
    shown = [row["item"].id for row in page["rows"]]
    assert len(shown) == 2 and read and set(read) < set(every)
    assert sorted(read) == read and len(set(read)) == len(read)  # each read once, in order
    # Everything up to the page's last item was read (the positions need it), little beyond.
    assert [i for i in every if i <= shown[-1]] == [i for i in read if i <= shown[-1]]


def _split_rows(project, spec: str, seed: int) -> list[dict]:
    _, stream = export_stream(project=project, params=_params(f"split={spec}&seed={seed}"))
    return [json.loads(line) for line in b"".join(stream).decode().splitlines()]


def _deep_pages_equal_the_export(project, spec: str, seed: int, *, page: int = 3) -> None:
    """From every listed item, the next page (``after=``) and the previous one (``before=``) of
    each split list the export's own items of that split."""
    rows = _split_rows(project, spec, seed)
    for split in {r["split"] for r in rows}:
        expected = [r["item_id"] for r in rows if r["split"] == split]
        filters = BrowseFilters(split=split, split_spec=spec, seed=seed)
        for start in [r["item_id"] for r in rows][::4]:
            after = browse_page(project=project, filters=filters, after=start, limit=page)
            assert [row["item"].id for row in after["rows"]] == [i for i in expected if i > start][:page]
            before = browse_page(project=project, filters=filters, before=start, limit=page)
            shown = [row["item"].id for row in before["rows"]]
            assert shown == [i for i in expected if i < start][-page:], (split, start)


def test_deep_split_pages_follow_new_decisions_answers_and_gold(touched, monkeypatch, django_user_model):
    """Deep pages count the touched items below them through per-block shifts cached with a
    fingerprint of their inputs (``touched_blocks``): after the cache is filled, a resolution,
    a review sent back, an item set aside, a gold value moved, an answer changed and a review
    removed each move the later items' positions, and the pages still list the export's split;
    each change re-reads its own block only."""
    from consistency.exports import touched_blocks
    from consistency.models import Review
    from consistency.selectors import browse_split

    monkeypatch.setattr(strata, "BLOCK", 4)
    monkeypatch.setattr(browse_split, "WALK", 5)  # previous pages, too, start from a block's shift
    spec, seed = "train:50,dev:25,test:25", 3
    _deep_pages_equal_the_export(touched, spec, seed)  # fills the cache
    reread: list[set[int]] = []
    real = strata.touched_read

    def spied(**kwargs):
        if kwargs.get("blocks") is not None:
            reread.append(set(kwargs["blocks"]))
        return real(**kwargs)

    monkeypatch.setattr(strata, "touched_read", spied)
    reviewer = django_user_model.objects.get(username="reviewer")
    items = list(Item.objects.filter(project=touched).order_by("id"))
    classes = [c.name for c in touched.schema_version.classes.order_by("id")]
    review = Review.objects.filter(item=items[3]).get()
    changes = [
        lambda: review_act(
            project=touched,
            item=items[1],
            actor=reviewer,
            action="resolve",
            expected_version=0,
            value=classes[0],
        ),
        lambda: review_act(
            project=touched,
            item=items[3],
            actor=reviewer,
            action="send_back",
            expected_version=review.version,
        ),
        lambda: review_act(
            project=touched, item=items[9], actor=reviewer, action="lacks_information", expected_version=0
        ),
        lambda: Item.objects.filter(pk=next(i.pk for i in items if i.is_gold)).update(gold_value=classes[-1]),
        lambda: Annotation.objects.filter(
            pk=Annotation.objects.filter(item=items[6], is_current=True).values("pk")[:1]
        ).update(value=classes[0]),
        lambda: Review.objects.filter(item=items[15]).delete(),
    ]
    for change in changes:
        reread.clear()
        change()
        _deep_pages_equal_the_export(touched, spec, seed)
        assert reread and all(len(blocks) == 1 for blocks in reread), reread
    # The cache holds what a fresh read gives (it may keep blocks the pages no longer reach).
    key = touched_blocks._key(_export_ctx(touched))
    from django.core.cache import cache as django_cache

    cached = django_cache.get(key)
    django_cache.delete(key)
    _deep_pages_equal_the_export(touched, spec, seed)
    fresh = django_cache.get(key)
    assert fresh and {block: cached.get(block) for block in fresh} == fresh


def _export_ctx(project):
    from consistency.exports.rows import export_context

    return export_context(project=project, params=_params("split=train:50,test:50"))


def test_deep_split_pages_without_a_cache_read_the_touched_items(touched, monkeypatch):
    """Redis down: every touched item below the page is read, as before the per-block cache."""
    from consistency.selectors import browse_split

    monkeypatch.setattr(strata, "cache_get", lambda key: strata.UNREACHABLE)
    monkeypatch.setattr(strata, "BLOCK", 5)
    monkeypatch.setattr(browse_split, "WALK", 5)
    _deep_pages_equal_the_export(touched, "train:80,dev:10,test:10", 0)


def test_a_deep_split_page_has_a_bounded_number_of_queries(touched, monkeypatch):
    """Deep in the project, forwards and backwards: as many queries with twice the touched
    items below the page as before (warm), and at most a few more after a decision below it
    (its block read again)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from consistency.selectors import browse_split

    monkeypatch.setattr(strata, "BLOCK", 4)
    monkeypatch.setattr(browse_split, "WALK", 6)
    ids = list(Item.objects.filter(project=touched).order_by("id").values_list("id", flat=True))
    filters = BrowseFilters(split="train", split_spec="train:80,dev:10,test:10")

    def queries(key: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            browse_page(project=touched, filters=filters, limit=2, **{key: ids[-3]})
        return len(captured)

    for key in ("after", "before"):
        queries(key)  # fills the caches
        warm = queries(key)
        already = strata.touched_ids(project=touched, ctx=_export_ctx(touched))
        below = set(ids[: len(ids) // 2]) - set(already)
        Item.objects.filter(pk__in=below).update(is_gold=True)  # many more touched items below
        changed = queries(key)
        assert queries(key) == warm and warm <= 24 and changed <= warm + 5, (key, warm, changed)
        Item.objects.filter(pk__in=below).update(is_gold=False)


def test_the_run_warm_up_fills_every_block_a_deep_page_needs(touched, monkeypatch):
    """After the warm-up task, a deep page reads no touched block again, and lists the export's
    split."""
    from consistency.exports import touched_blocks
    from consistency.models import AgreementRun
    from consistency.tasks.exports import export_counts_warm_task

    monkeypatch.setattr(strata, "BLOCK", 4)
    export_counts_warm_task(AgreementRun.objects.filter(project=touched, status="succeeded").latest("id").id)
    monkeypatch.setattr(touched_blocks.strata, "touched_read", _refuse_blocks(strata.touched_read))
    _deep_pages_equal_the_export(touched, "train:80,dev:10,test:10", 0)


def _refuse_blocks(real):
    def read(**kwargs):
        assert kwargs.get("blocks") is None, "a block was read again"
        return real(**kwargs)

    return read


def test_without_redis_the_preview_reads_the_run_counts_stored_with_the_run(touched, monkeypatch):
    """Redis down (or its keys gone): the first preview counts the run's results once and stores
    the counts with the run; later previews, in any process, read them back instead."""
    from consistency.models import RunStrataCounts

    monkeypatch.setattr(strata, "cache_get", lambda key: strata.UNREACHABLE)
    params = _params("split=train:80,dev:10,test:10")
    expected = _export_counts(touched, params, fast=True)
    assert not RunStrataCounts.objects.exists()
    assert _preview_counts(touched, params) == expected
    assert RunStrataCounts.objects.count() == 1

    def counted(ctx):
        raise AssertionError("the run's results were counted again")

    real = strata._run_counts
    monkeypatch.setattr(strata, "_run_counts", counted)
    assert _preview_counts(touched, params) == expected
    monkeypatch.setattr(strata, "_run_counts", real)
    monkeypatch.setattr(strata, "BLOCK", 5)  # another block size: counts of its own
    assert _preview_counts(touched, params) == expected
    assert RunStrataCounts.objects.count() == 2
