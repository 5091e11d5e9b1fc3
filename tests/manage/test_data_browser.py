"""The data browser: filters, keyset pages, `_` fields hidden, the split filter equal to the
export's split, bulk actions for managers only, bad input answered with a reason."""

import pytest

from consistency.exports.params import parse_export_params
from consistency.exports.rows import export_context, export_rows
from consistency.models import Review, ReviewStatus
from core.audit.models import AuditEvent
from labeling.models import Item, Role
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, finished_run

pytestmark = pytest.mark.django_db
CLASSES = ["deep scratch", "shallow scratch", "dent", "none"]


@pytest.fixture
def browsed(project):
    items = [
        ItemFactory(
            project=project,
            external_id=f"img-{i:03d}",
            metadata={"camera": "C1" if i % 2 else "C2", "_generated_defect": CLASSES[i % 4]},
        )
        for i in range(120)
    ]
    finished_run(
        project,
        [{"item": it, "consensus": CLASSES[i % 4], "agreement": i / 120} for i, it in enumerate(items)],
    )
    return items


def _next(html: str) -> str | None:
    if 'rel="next"' not in html:
        return None
    return html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")


def _ids(html: str) -> list[str]:
    return [part.split("</code>")[0] for part in html.split("<code>")[1:] if part.startswith("img-")]


@pytest.mark.parametrize("role", [Role.LABELER, Role.PIPELINE])
def test_labelers_and_pipelines_cannot_browse(client, project, role):
    client.force_login(MembershipFactory(project=project, role=role).user)
    assert client.get(f"/projects/{project.id}/items/").status_code == 403


def test_pages_walk_every_item_by_id_without_offset(
    client, project, staff, browsed, django_assert_max_num_queries
):
    client.force_login(staff)
    seen, url = [], f"/projects/{project.id}/items/"
    while url:
        with django_assert_max_num_queries(12):
            html = client.get(url).content.decode()
        seen += _ids(html)
        url = (
            html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
            if 'rel="next"' in html
            else None
        )
        url = f"/projects/{project.id}/items/{url}" if url else None
    assert seen == [f"img-{i:03d}" for i in range(120)]
    back = client.get(f"/projects/{project.id}/items/?before={browsed[100].id}").content.decode()
    assert _ids(back) == [f"img-{i:03d}" for i in range(50, 100)]


def test_underscore_fields_are_hidden_unless_a_manager_asks(client, project, staff, browsed):
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/items/").content.decode()
    assert "camera: C2" in html and "_generated_defect" not in html
    assert "_generated_defect: dent" in client.get(f"/projects/{project.id}/items/?hidden=1").content.decode()
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user
    client.force_login(reviewer)
    assert "_generated_defect" not in client.get(f"/projects/{project.id}/items/?hidden=1").content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=img-01", [f"img-{i:03d}" for i in range(10, 20)]),
        ("class=dent&min_agreement=0.5", [f"img-{i:03d}" for i in range(60, 120) if i % 4 == 2][:50]),
        ("slice=camera:C1&max_agreement=0.05", ["img-001", "img-003", "img-005"]),
    ],
)
def test_filters(client, project, staff, browsed, query, expected):
    client.force_login(staff)
    assert _ids(client.get(f"/projects/{project.id}/items/?{query}").content.decode()) == expected


def test_status_and_labeler_filters(client, project, staff, browsed):
    Item.objects.filter(pk=browsed[3].pk).update(is_gold=True)
    Review.objects.create(project=project, item=browsed[4], status=ReviewStatus.LACKS_INFORMATION)
    Review.objects.create(project=project, item=browsed[5], status=ReviewStatus.RESOLVED)
    Item.objects.filter(pk=browsed[6].pk).update(slots_taken=3)
    client.force_login(staff)
    get = lambda q: _ids(client.get(f"/projects/{project.id}/items/?{q}").content.decode())  # noqa: E731
    assert get("status=gold") == ["img-003"]
    assert get("status=lacks_information") == ["img-004"]
    assert get("status=resolved") == ["img-005"]
    assert get("status=complete") == ["img-006"]
    assert "img-003" not in get("status=needs_answers") and "img-006" not in get("status=needs_answers")
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    from labeling.services.assignments import assignment_reserve_next
    from labeling.services.submissions import annotation_submit

    assignment = assignment_reserve_next(project=project, labeler=labeler)
    annotation_submit(item_id=assignment.item_id, labeler=labeler, value="dent")
    assert get(f"labeler={labeler.id}") == [assignment.item.external_id]


def test_split_filter_matches_the_export(client, project, staff, browsed):
    params = parse_export_params(_Query(split="train:60,dev:20,test:20", seed="7"))
    ctx = export_context(project=project, params=params)
    expected = {
        s: [r["external_id"] for r in export_rows(project=project, ctx=ctx, params=params) if r["split"] == s]
        for s in ("dev", "test")
    }
    client.force_login(staff)
    for split, ids in expected.items():
        html = client.get(
            f"/projects/{project.id}/items/?split={split}&split_spec=train:60,dev:20,test:20&seed=7"
        ).content.decode()
        assert _ids(html) == ids[:50] and len(ids) == 24


class _Query(dict):
    def getlist(self, key):
        return [self[key]] if key in self else []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("min_agreement=high", "min agreement must be a number"),
        ("status=someday", "Unknown status"),
        ("split=train&split_spec=train:90", "sum to 100"),
        ("split=val", "is not a split of"),
        ("after=abc&labeler=x", "labeler must be a number"),
    ],
)
def test_bad_filters_say_what_is_wrong(client, project, staff, browsed, query, message):
    client.force_login(staff)
    response = client.get(f"/projects/{project.id}/items/?{query}")
    assert response.status_code == 400 and message in response.content.decode()


def test_manager_bulk_actions(client, project, staff, browsed):
    client.force_login(staff)
    url = f"/projects/{project.id}/items/bulk/"
    other = ItemFactory(project=ProjectFactory())
    ids = [browsed[0].id, browsed[1].id, other.id]
    client.post(url, {"action": "gold", "item": ids})
    gold = dict(Item.objects.filter(is_gold=True).values_list("external_id", "gold_value"))
    assert gold == {"img-000": "deep scratch", "img-001": "shallow scratch"}
    client.post(url, {"action": "review", "item": ids})
    assert set(Review.objects.values_list("item_id", "status")) == {
        (browsed[0].id, "in_review"),
        (browsed[1].id, "in_review"),
    }
    before = browsed[2].target
    client.post(url, {"action": "more", "extra": "2", "item": [browsed[2].id, other.id]})
    browsed[2].refresh_from_db()
    other.refresh_from_db()
    assert browsed[2].target == before + 2 and other.target == before
    assert AuditEvent.objects.filter(project=project, action__startswith="items.").count() == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "burn", "item": ["1"]}, "Unknown action"),
        ({"action": "gold"}, "Choose at least one item."),
        ({"action": "more", "extra": "50", "item": ["1"]}, "Ask for 1 to 10 more answers."),
        ({"action": "more", "item": ["x"]}, "must be whole numbers"),
    ],
)
def test_bad_bulk_input_is_refused(client, project, staff, browsed, data, message):
    client.force_login(staff)
    page = client.post(f"/projects/{project.id}/items/bulk/", data, follow=True).content.decode()
    assert message in page
    assert not Item.objects.filter(is_gold=True).exists()


def test_reviewers_cannot_bulk_act(client, project, browsed):
    client.force_login(MembershipFactory(project=project, role=Role.REVIEWER).user)
    response = client.post(f"/projects/{project.id}/items/bulk/", {"action": "gold", "item": [browsed[0].id]})
    assert response.status_code == 403
    assert not Item.objects.filter(is_gold=True).exists()


def test_labelers_never_receive_underscore_fields(client):
    from labeling.selectors.workspace import labeler_data

    data = {"text": "a", "_truth": "b", "left": {"name": "x", "_id": 1}, "right": {"_id": 2}}
    assert labeler_data(data) == {"text": "a", "left": {"name": "x"}, "right": {}}


def test_split_filter_pages_forward_and_back_like_the_export(client, project, staff, browsed):
    params = parse_export_params(_Query(split="train:60,dev:20,test:20", seed="7"))
    ctx = export_context(project=project, params=params)
    train = [
        r["external_id"]
        for r in export_rows(project=project, ctx=ctx, params=params)
        if r["split"] == "train"
    ]
    client.force_login(staff)
    base = f"/projects/{project.id}/items/"
    query = "split=train&split_spec=train:60,dev:20,test:20&seed=7"
    first = client.get(f"{base}?{query}").content.decode()
    second = client.get(f"{base}{_next(first)}").content.decode()
    assert _ids(first) + _ids(second) == train and len(train) == 72 and _next(second) is None
    start = Item.objects.get(project=project, external_id=_ids(second)[0]).id
    back = client.get(f"{base}?{query}&before={start}").content.decode()
    assert _ids(back) == _ids(first)


def test_split_pages_deep_in_the_project_take_a_fixed_number_of_queries(
    client, project, staff, browsed, django_assert_max_num_queries
):
    """The split filter starts from per-label counts (exports/strata.py), never from item one."""
    client.force_login(staff)
    base = f"/projects/{project.id}/items/?split=test&split_spec=train:60,dev:20,test:20&seed=7"
    client.get(base)  # fills the run's per-label counts
    for after in (browsed[10].id, browsed[90].id):
        with django_assert_max_num_queries(22):
            assert client.get(f"{base}&after={after}").status_code == 200


def test_search_by_external_id_uses_the_trigram_index(project, browsed):
    """A substring search reads matches from the trigram index (migration 0014), not the items
    one by one until a page is full."""
    from django.db import connection, transaction

    from consistency.selectors.browse import BrowseFilters, browse_queryset

    items = browse_queryset(project=project, filters=BrowseFilters(search="g-11"), run=None)
    assert sorted(items.values_list("external_id", flat=True)) == [f"img-{i}" for i in range(110, 120)]
    # The search's own condition, as Django writes it, planned on its own (the project's index
    # wins on a 120-item table whatever the search; at 1M items the planner picks by cost).
    # Only bitmap scans allowed: a full scan of a btree index (which a small table's statistics
    # may favour) is then off the table, and a bitmap scan needs an index that takes the LIKE.
    sql, params = Item.objects.filter(external_id__icontains="g-11").query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; "
            "SET LOCAL enable_indexonlyscan = off"
        )
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "item_external_id_trgm" in plan, plan


def test_the_page_names_the_run_by_its_number_in_the_project(client, project, staff, browsed):
    """Run numbers are per project (#1, #2, …); the global id is not what a manager sees."""
    for _ in range(2):
        finished_run(ProjectFactory(), [])
    run = finished_run(project, [{"item": browsed[0], "consensus": CLASSES[0]}])
    assert run.id != run.number  # the other projects' runs came first
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/items/").content.decode()
    assert f"agreement run #{run.number} (schema" in html and f"#{run.id} " not in html
