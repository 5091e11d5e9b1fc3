import pytest

from labeling.models import Role
from labeling.selectors import data_quality as data_quality_module
from labeling.selectors.data_quality import data_quality
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def _image_items(project, n=5):
    for i in range(n):
        ItemFactory(
            project=project,
            metadata={"camera": "c1" if i < 3 else "c2", "_truth": "hidden"},
            quality={
                "width": 320,
                "height": 240,
                "brightness": 10 + 40 * i,
                "contrast": 30,
                "blur": 100,
                "flags": ["almost black"] if i == 0 else [],
            },
        )


def test_data_page_shows_histograms_outliers_and_slices(client, staff):
    project = ProjectFactory(created_by=staff)
    _image_items(project)
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/data/").content.decode()
    assert "Mean brightness" in html and "almost black" in html and "Drop files here" in html
    assert ">c1<" in html and ">3<" in html and "_truth" not in html


def test_slices_carry_item_counts_flagged_shares_and_medians(staff):
    project = ProjectFactory(created_by=staff)
    _image_items(project)
    quality = data_quality(project=project)
    assert quality["slice_metrics"] == [
        "Mean brightness (0–255)",
        "Contrast (std of gray)",
        "Sharpness (variance of Laplacian)",
    ]
    c1, c2 = quality["slices"]["camera"]
    assert (c1["value"], c1["items"], c1["flagged_share"], c1["medians"]) == (
        "c1",
        3,
        33.3,
        [50.0, 30.0, 100.0],
    )
    assert (c2["value"], c2["items"], c2["medians"][0]) == ("c2", 2, 150.0)


def test_record_projects_show_missing_distinct_and_ranges_per_field(client, staff):
    project = ProjectFactory(created_by=staff, data_type="record", classes=["1", "0"])
    for i, age in enumerate(["31", "", "7.5", "40"]):
        ItemFactory(project=project, data={"left": {"age": age, "name": f"n{i % 2}"}, "right": {"age": "x"}})
    columns = {c["name"]: c for c in data_quality(project=project)["record_columns"]}
    assert columns["left.age"] == {
        "name": "left.age",
        "missing": 1,
        "missing_share": 25.0,
        "distinct": 3,
        "min": 7.5,
        "max": 40.0,
    }
    assert columns["right.age"]["min"] is None and columns["left.name"]["distinct"] == 2
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/data/").content.decode()
    assert "<code>left.age</code>" in html and "Fields" in html


def test_large_projects_are_summarized_on_a_sample(staff, monkeypatch):
    project = ProjectFactory(created_by=staff)
    _image_items(project, n=8)
    monkeypatch.setattr(data_quality_module, "SAMPLE_LIMIT", 4)
    quality = data_quality(project=project)
    assert quality["is_sample"] and quality["item_count"] == 8 and quality["sampled"] == 4


def test_the_sample_is_read_by_key_in_a_fixed_number_of_queries(
    client, staff, monkeypatch, django_assert_max_num_queries
):
    """Every other item by id, read by primary key (never a filter over every item), and the
    page's queries do not grow with the project."""
    project = ProjectFactory(created_by=staff)
    _image_items(project, n=10)
    monkeypatch.setattr(data_quality_module, "SAMPLE_LIMIT", 5)
    with django_assert_max_num_queries(4) as captured:
        quality = data_quality(project=project)
    brightness = next(h for h in quality["histograms"] if h["key"] == "brightness")
    # Items 0, 2, 4, 6, 8 (brightness 10 + 40 i).
    assert quality["sampled"] == 5 and (brightness["min"], brightness["median"], brightness["max"]) == (
        10,
        170,
        330,
    )
    assert "generate_series" in captured.captured_queries[-1]["sql"]
    client.force_login(staff)
    with django_assert_max_num_queries(14):
        assert client.get(f"/projects/{project.id}/data/").status_code == 200


def test_reviewers_see_data_but_cannot_upload_and_labelers_get_403(client, project):
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user
    client.force_login(reviewer)
    html = client.get(f"/projects/{project.id}/data/").content.decode()
    assert "Drop files here" not in html
    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    client.force_login(labeler)
    assert client.get(f"/projects/{project.id}/data/").status_code == 403
