"""The typed run report (consistency.report): it reads what runs stored, old ones included, and
the writer's builder stores exactly the JSON runs always stored."""

import copy

import pytest

from consistency.models import AgreementRun
from consistency.report import RunReportBuilder, report_from_json
from consistency.services.agreement_runs import agreement_run_request
from tests.consistency.services.test_agreement_runs import ANSWERS, label


def test_an_absent_report_reads_as_empty():
    for stored in (None, {}):
        report = report_from_json(stored)
        assert report.overall == {} and report.counts == {} and report.hlp == {}
        assert report.labelers == [] and report.per_class == [] and report.slices == {}
        assert report.pairs is None and report.confusion is None and report.prelabels is None
        assert report.alpha is None and report.alpha_ci == (None, None) and report.answer_count == 0
        assert report.labeler_hlp() == {} and report.hlp_per_slice("site") == []


def test_an_old_report_without_newer_sections_reads_their_empty_values():
    old = {"kind": "categorical", "counts": {"answers": 4}, "overall": {"alpha": 0.5, "meaning": "…"}}
    report = report_from_json(old)
    assert report.alpha == 0.5 and report.answer_count == 4
    assert report.alpha_ci == (None, None)
    assert report.hlp == {} and report.hlp_project == {} and report.prelabels is None
    assert report.to_json() is old


def test_not_enough_data_is_said():
    report = report_from_json(
        {"overall": {"alpha": None, "meaning": "No answers yet."}, "not_enough_data": "x"}
    )
    assert report.not_enough_data == "x"


def test_the_builder_completes_the_measured_report_as_the_writer_did():
    measured = {
        "labelers": [{"labeler_id": 7, "answers": 3}, {"labeler_id": 9, "answers": 1}],
        "pairs": {"labeler_ids": [7, 9], "kappa": [[None, 0.5], [0.5, None]], "support": [[0, 2], [2, 0]]},
        "label_quality": {"method": "crowdlab"},
    }
    expected = copy.deepcopy(measured)
    expected["labelers"][0]["username"] = "ann"
    expected["labelers"][1]["username"] = "9"
    expected["pairs"]["labelers"] = ["ann", "9"]
    expected["label_quality"]["model_version"] = "m1"
    expected["prelabels"] = {"shown": {"n": 1}}
    builder = RunReportBuilder(measured)
    assert builder.labeler_ids() == {7, 9}
    builder.model_version_set("m1")
    builder.prelabels_set({"shown": {"n": 1}})
    builder.prelabels_set(None)
    builder.usernames_set({7: "ann"})
    assert builder.to_json() == expected
    assert builder.build().labeler_hlp() == {7: None, 9: None}


def test_without_label_quality_no_model_version_is_added():
    builder = RunReportBuilder({"kind": "boxes", "labelers": []})
    builder.model_version_set(None)
    assert builder.to_json() == {"kind": "boxes", "labelers": []}


@pytest.mark.django_db
def test_a_stored_report_reads_back_as_it_was_written(project, staff, django_capture_on_commit_callbacks):
    labelers, _ = label(project, ANSWERS)
    with django_capture_on_commit_callbacks(execute=True):
        run = agreement_run_request(project=project, requested_by=staff)
    run = AgreementRun.objects.get(pk=run.pk)
    report = report_from_json(run.report)
    assert report.to_json() == run.report
    assert report.kind == "categorical" and report.alpha == run.headline_alpha
    assert report.answer_count == run.annotation_count == 18
    assert report.alpha_ci == tuple(run.report["overall"]["alpha_ci"])
    assert {row["username"] for row in report.labelers} == {u.username for u in labelers}
    assert report.pairs is not None and report.pairs["labelers"] == [
        row["username"] for row in report.labelers
    ]
