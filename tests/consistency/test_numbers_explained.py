"""Every figure explained where it is shown: the glossary and its docs sections, signed numbers,
merge suggestions that never lower alpha, the chart's reference lines, the Definitions page's
previews."""

import pytest
from django.template import Context, Template

from consistency.charts import line_chart
from consistency.explanations import TERMS
from consistency.selectors.schema_suggestions import schema_suggestions
from labeling.models import LabelSchemaVersion
from labeling.templatetags.concord import percent, signed, signed_percent
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import ProjectFactory
from tests.helpers import agreement_run_now

MINUS = "\u2212"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-0.0142, f"{MINUS}0.014"),
        (0.0141, "+0.014"),
        (0.0, "0.000"),
        (-0.0001, "0.000"),
        (None, "–"),
        ("x", "–"),
    ],
)
def test_signed_shows_the_sign_with_a_real_minus(value, expected):
    assert signed(value) == expected


def test_percent_and_signed_percent_keep_negative_values():
    assert percent(-0.034) == f"{MINUS}3%" and percent(0.5) == "50%" and percent(float("nan")) == "–"
    assert (
        signed_percent(0.123) == "+12"
        and signed_percent(-0.04) == f"{MINUS}4"
        and signed_percent(0.001) == "0"
    )


def test_every_term_renders_a_tooltip_and_a_link_to_its_docs_section(db):
    html = Template('{% load consistency_tags %}{% term "alpha" %} {% term "alpha" "Alpha" %}').render(
        Context()
    )
    assert html.count('role="tooltip"') == 2
    assert 'href="/help/agreement/#alpha"' in html and "Alpha</a>" in html
    assert 'aria-describedby="tip-alpha-1"' in html and 'id="tip-alpha-2"' in html  # one id per use


def test_the_docs_page_has_a_section_for_every_term(client, staff):
    client.force_login(staff)
    html = client.get("/help/agreement/").content.decode()
    for key, found in TERMS.items():
        assert f'id="{found.anchor}"' in html, key
    assert "0.667" in html and "0.800" in html


def test_the_history_chart_draws_krippendorffs_thresholds():
    chart = line_chart(
        [{"label": "v1 · #1", "value": 0.3}, {"label": "v2 · #2", "value": 0.9, "lo": 0.85, "hi": 0.95}]
    )
    labels = [r["label"] for r in chart["references"]]
    assert labels == ["0.800 reliable", "0.667 tentative"]
    top, bottom = chart["ticks"][-1]["y"], chart["ticks"][0]["y"]
    for ref, value in zip(chart["references"], (0.8, 0.667), strict=True):
        assert top < ref["y"] < bottom  # inside the plot
        expected = bottom + (top - bottom) * value  # 0 at the bottom tick, 1 at the top one
        assert ref["y"] == pytest.approx(expected)
    many = line_chart([{"label": f"#{i}", "value": 0.5} for i in range(30)])
    assert 2 <= sum(p.show_label for p in many["points"]) <= 9  # run labels never pile up


# Per item (a, b, c) counts: a and b are confused once, yet merging them lowers alpha 0.739 → 0.427.
LOWER_IF_MERGED = (
    [(3, 0, 0)] * 10 + [(0, 3, 0)] * 10 + [(0, 0, 3)] * 2 + [(2, 0, 1)] * 3 + [(0, 2, 1)] * 3 + [(2, 1, 0)]
)


def _rows_to_answers(rows):
    """Per item (a, b, c) counts of three labelers' answers → answers[item][labeler]."""
    names = ["a", "b", "c"]
    return [[n for n, k in zip(names, counts, strict=True) for _ in range(k)] for counts in rows]


@pytest.mark.django_db
def test_merges_that_lower_alpha_are_not_suggested():
    project = ProjectFactory(classes=["a", "b", "c"])
    rows = (
        [(3, 0, 0)] * 10
        + [(0, 3, 0)] * 10
        + [(0, 0, 3)] * 2
        + [(2, 0, 1)] * 3
        + [(0, 2, 1)] * 3
        + [(2, 1, 0)]
    )
    label(project, _rows_to_answers(rows))
    merges = schema_suggestions(project=project)["merges"]
    suggested = {tuple(m["classes"]) for m in merges}
    assert ("a", "b") not in suggested  # one confusion, but merging them lowers alpha (0.739 → 0.427)
    assert suggested == {("a", "c"), ("b", "c")}
    assert all(m["gain"] > 0 and m["alpha_after"] > m["alpha_before"] for m in merges)


@pytest.mark.django_db
def test_previews_show_where_the_button_is_and_keep_the_transcript_rule(client):
    project = ProjectFactory(data_type="audio", label_kind="transcription", classes=[])
    label(project, [["umm call mom"] * 3, ["Umm play jazz", "um play jazz", "umm play jazz"]])
    agreement_run_now(project)
    client.force_login(project.created_by)
    url = f"/projects/{project.id}/definitions/"
    page = client.get(url).content.decode()
    assert page.count('action="#preview"') >= 2
    preview = client.post(url, {"op": "standardize_transcripts", "pattern": "umm", "replacement": "um"})
    html = preview.content.decode()
    assert 'id="preview"' in html
    assert 'name="pattern" placeholder="Umm" value="umm"' in html
    assert 'name="replacement" placeholder="Um" value="um"' in html
    assert LabelSchemaVersion.objects.filter(project=project).count() == 1  # a preview publishes nothing


@pytest.mark.django_db
def test_the_merge_preview_gives_the_signed_change(client):
    project = ProjectFactory()
    label(project, ANSWERS)
    agreement_run_now(project)
    client.force_login(project.created_by)
    body = {"op": "merge", "classes": ["deep scratch", "shallow scratch"], "into": "scratch"}
    html = client.post(f"/projects/{project.id}/definitions/", body).content.decode()
    assert 'id="preview-change">+0.' in html
