"""The Export page's preview, aggregated in SQL, equals the export counted row by row (the
reference path), with splits, filters that thin strata out, ties and items without consensus;
and it costs a fixed number of queries whatever the project's size."""

from collections import Counter

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from consistency.exports.params import parse_export_params
from consistency.exports.rows import export_rows
from consistency.selectors.export_preview import _key, export_preview
from tests.factories import ItemFactory, ProjectFactory, finished_run

pytestmark = pytest.mark.django_db

CLASSES = ["cat", "dog", "bird"]


def _project(staff, n: int):
    project = ProjectFactory(created_by=staff, data_type="record", classes=CLASSES)
    items = [
        ItemFactory(project=project, external_id=f"r{i:03d}", metadata={"camera": f"C{i % 3}"})
        for i in range(n)
    ]
    finished_run(
        project,
        [
            {
                "item": item,
                "consensus": None if i % 11 == 0 else CLASSES[(i * 7) % 3 if i % 5 else 0],
                "agreement": (i % 10) / 9,
                "is_tie": i % 13 == 0,
            }
            for i, item in enumerate(items)
        ],
    )
    return project


def _reference(project, params) -> dict[str, Counter]:
    counts: dict[str, Counter] = {}
    for row in export_rows(
        project=project, run=export_preview(project=project, params=params)["run"], params=params
    ):
        label = row["label"] if "label" in row else row.get("consensus")
        counts.setdefault(row.get("split") or "all", Counter())[_key(label)] += 1
    return counts


@pytest.mark.parametrize(
    "query",
    [
        "",
        "split=train:80,dev:10,test:10&seed=7",
        "split=train:60,dev:20,test:20&seed=1&min_agreement=0.5",
        "split=train:50,test:50&exclude=unresolved&exclude=ties",
        "split=train:70,test:30&slice=camera:C1&include=answers",
        "min_agreement=0.3&exclude=borderline",
    ],
)
def test_preview_equals_the_export_row_by_row(staff, query):
    project = _project(staff, 97)
    params = parse_export_params(QueryDict(query))
    preview = export_preview(project=project, params=params)
    expected = _reference(project, params)
    shown = {s["name"]: Counter({c: n for c, n, _ in s["classes"]}) for s in preview["splits"]}
    names = list(params.split.names) if params.split else ["all"]
    assert shown == {name: expected.get(name, Counter()) for name in names}
    assert preview["rows"] == sum(sum(c.values()) for c in expected.values())
    assert preview["rows"] > 0


def test_preview_costs_the_same_queries_at_any_size(staff):
    params = parse_export_params(QueryDict("split=train:80,dev:10,test:10&min_agreement=0.5"))
    queries = []
    for n in (10, 120):
        project = _project(staff, n)
        with CaptureQueriesContext(connection) as captured:
            export_preview(project=project, params=params)
        queries.append(len(captured))
    assert queries[0] == queries[1] <= 5


def test_a_repeated_preview_is_read_from_the_cache_and_slices_are_not(staff):
    project = _project(staff, 30)
    cached = parse_export_params(QueryDict("split=train:80,dev:10,test:10&min_agreement=0.5"))
    sliced = parse_export_params(QueryDict("split=train:80,dev:10,test:10&slice=camera:C1"))
    rows = {}
    for params in (cached, sliced):
        first = export_preview(project=project, params=params)
        rows[params] = first["rows"]
        with CaptureQueriesContext(connection) as captured:
            again = export_preview(project=project, params=params)
        assert again["splits"] == first["splits"]
        reads_rows = any("consistency_itemresult" in q["sql"] for q in captured.captured_queries)
        assert reads_rows == bool(params.slices)
    stricter = parse_export_params(QueryDict("split=train:80,dev:10,test:10&min_agreement=0.9"))
    assert 0 < export_preview(project=project, params=stricter)["rows"] < rows[cached]  # its own key
