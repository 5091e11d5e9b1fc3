"""Pages that must stay fast at millions of answers: their queries do not grow with the
project, the review queue's first page is read in its order from an index, and the cached item
count stays right as items come and go."""

import pytest
from django.db import connection, transaction

from consistency.models import ItemResult
from consistency.selectors.reviews import disagreement_queue
from core.jobs.models import Job, JobStatus
from labeling.models import Item, JobKind
from labeling.selectors import projects as projects_module
from labeling.selectors.projects import project_item_count, project_item_count_forget
from tests.factories import ItemFactory, finished_run

pytestmark = pytest.mark.django_db


def _queue_page(client, project, django_assert_max_num_queries) -> str:
    with django_assert_max_num_queries(20):
        response = client.get(f"/projects/{project.id}/review/")
    assert response.status_code == 200
    return response.content.decode()


def test_review_queue_page_takes_as_many_queries_for_a_larger_run(
    client, project, staff, django_assert_max_num_queries
):
    client.force_login(staff)
    items = [ItemFactory(project=project, external_id=f"q-{i:02d}") for i in range(30)]
    run = finished_run(project, [{"item": it, "consensus": "dent"} for it in items])
    # Item i: disagreement i / 30; every tenth a tie (ties come first).
    for i, item in enumerate(items):
        ItemResult.objects.filter(run=run, item=item).update(disagreement=i / 30, is_tie=i % 10 == 5)
    with django_assert_max_num_queries(20) as small:
        client.get(f"/projects/{project.id}/review/")
    more = [ItemFactory(project=project, external_id=f"q-{i:02d}") for i in range(30, 90)]
    ItemResult.objects.bulk_create(
        ItemResult(run=run, item=it, n_answers=3, consensus="dent", method="majority", disagreement=0.01)
        for it in more
    )
    html = _queue_page(client, project, django_assert_max_num_queries)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(f"/projects/{project.id}/review/")
    order = [p.split("<")[0] for p in html.split(">q-")[1:]]
    assert order[:3] == ["25", "15", "05"] and order[3] == "29"  # ties, then most disagreeing


def test_queue_order_is_read_from_its_index(project):
    items = [ItemFactory(project=project) for _ in range(3)]
    run = finished_run(project, [{"item": it, "consensus": "dent"} for it in items])
    sql, params = disagreement_queue(project=project, run=run)[:50].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Rows live in a partition of the results table (migration 0008): the parent's index in the
    # queue's order is there under the partition's own name (its columns spell it out).
    scan = next(line for line in plan.splitlines() if "consistency_itemresult" in line)
    assert "Index Scan" in scan and "is_tie_disagreement" in scan, plan
    assert "Sort Key" not in plan, plan


def test_cached_item_count_follows_new_and_removed_items(project, monkeypatch):
    monkeypatch.setattr(projects_module, "COUNT_CACHED_FROM", 3)
    items = [ItemFactory(project=project) for _ in range(5)]
    assert project_item_count(project_id=project.id) == 5
    [ItemFactory(project=project) for _ in range(2)]
    assert project_item_count(project_id=project.id) == 7  # the new ids, counted past the cache
    Item.objects.filter(pk=items[0].pk).delete()
    project_item_count_forget(project_id=project.id)  # what an import's undo does
    assert project_item_count(project_id=project.id) == 6


def test_item_count_is_not_cached_while_an_import_runs(project, staff, monkeypatch):
    """An import's rows commit later than their ids were taken: a count cached meanwhile could
    miss them for good."""
    monkeypatch.setattr(projects_module, "COUNT_CACHED_FROM", 3)
    Job.objects.create(project=project, kind=JobKind.IMPORT_ITEMS, status=JobStatus.RUNNING, created_by=staff)
    items = [ItemFactory(project=project) for _ in range(4)]
    assert project_item_count(project_id=project.id) == 4
    Item.objects.filter(pk=items[1].pk).delete()
    assert project_item_count(project_id=project.id) == 3


def test_project_page_queries_do_not_grow_with_items(client, project, staff, django_assert_max_num_queries):
    client.force_login(staff)
    [ItemFactory(project=project) for _ in range(3)]
    with django_assert_max_num_queries(16) as small:
        assert client.get(f"/projects/{project.id}/").status_code == 200
    [ItemFactory(project=project) for _ in range(30)]
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = client.get(f"/projects/{project.id}/").content.decode()
    assert "33" in html


@pytest.mark.parametrize(("threshold", "warmed"), [(1, True), (10**9, False)])
def test_a_large_run_warms_its_export_counts_when_it_ends(project, monkeypatch, threshold, warmed):
    """A run of many answers sends the per-label counts' warm-up (eager here); a small one
    leaves them to the first request, which computes them in milliseconds."""
    from django.core.cache import cache

    from consistency.exports import strata
    from consistency.selectors.labels import label_context
    from consistency.services import agreement_runs
    from labeling.models import Role
    from tests.bulk import answers_insert, items_insert
    from tests.factories import MembershipFactory
    from tests.helpers import agreement_run_now

    monkeypatch.setattr(agreement_runs, "WARM_FROM_ANSWERS", threshold)
    cache.clear()
    labelers = [MembershipFactory(project=project, role=Role.LABELER).user.id for _ in range(3)]
    items_insert(project=project, count=30)
    answers_insert(
        project=project, labeler_ids=labelers, classes=[c.name for c in project.schema_version.classes.all()]
    )
    run = agreement_run_now(project)
    key = strata._cache_key(label_context(project=project, run=run))
    cached = cache.get(key)
    assert (cached is not None) == warmed
    if warmed:
        assert sum(totals[-1] for _, totals in cached.values()) == 30  # every answered item listed
