import pytest

from consistency.models import AgreementRun, ItemResult, RunStatus
from consistency.services.agreement_runs import agreement_run_compute, agreement_run_request
from core.errors import Conflict
from labeling.models import Role
from labeling.services.assignments import assignment_reserve_next
from labeling.services.submissions import annotation_submit
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db

# Three labelers; deep/shallow scratch confused, dent and none clear.
ANSWERS = [
    ["deep scratch", "deep scratch", "shallow scratch"],
    ["shallow scratch", "deep scratch", "shallow scratch"],
    ["dent", "dent", "dent"],
    ["none", "none", "none"],
    ["deep scratch", "shallow scratch", "deep scratch"],
    ["dent", "dent", "none"],
]


def label(project, answers, metadata=None):
    labelers = [MembershipFactory(project=project, role=Role.LABELER).user for _ in range(len(answers[0]))]
    items = [
        ItemFactory(project=project, metadata=(metadata or {}).get(i, {"factory": "A"}))
        for i in range(len(answers))
    ]
    for user_index, user in enumerate(labelers):
        for _ in items:
            # reserve_next hands out the fullest open item: answer whichever item it gives.
            assignment = assignment_reserve_next(project=project, labeler=user)
            value = answers[items.index(assignment.item)][user_index]
            annotation_submit(item_id=assignment.item_id, labeler=user, value=value)
    return labelers, items


def test_run_computes_alpha_consensus_and_confusion(project, staff, django_capture_on_commit_callbacks):
    labelers, items = label(project, ANSWERS)
    with django_capture_on_commit_callbacks(execute=True):
        run = agreement_run_request(project=project, requested_by=staff)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    report = run.report
    assert report["counts"]["answers"] == 18 and report["counts"]["items_measured"] == 6
    assert -1 < run.headline_alpha < 1
    low, high = report["overall"]["alpha_ci"]
    assert low <= run.headline_alpha <= high
    per_class = {row["class"]: row for row in report["per_class"]}
    assert per_class["deep scratch"]["most_confused_with"] == "shallow scratch"
    assert per_class["dent"]["alpha"] > per_class["deep scratch"]["alpha"]
    assert report["pairs"]["labelers"] == sorted(
        [u.username for u in labelers], key=lambda n: [u.username for u in labelers].index(n)
    )
    results = {r.item_id: r for r in ItemResult.objects.filter(run=run)}
    assert results[items[2].id].consensus == "dent" and results[items[2].id].agreement == 1.0
    assert results[items[0].id].consensus == "deep scratch"
    assert results[items[0].id].confidence == pytest.approx(2 / 3)
    assert {results[items[0].id].first_class, results[items[0].id].second_class} == {
        "deep scratch",
        "shallow scratch",
    }


def test_gold_beats_the_vote_in_the_label_and_the_run_keeps_the_answers_consensus(project, staff):
    from consistency.selectors.labels import item_label

    _, items = label(project, ANSWERS)
    items[0].is_gold, items[0].gold_value = True, "shallow scratch"
    items[0].save()
    run = AgreementRun.objects.create(
        project=project, schema_version=project.schema_version, requested_by=staff
    )
    agreement_run_compute(run_id=run.id)
    result = ItemResult.objects.get(run=run, item=items[0])
    assert (result.consensus, result.method) == ("deep scratch", "majority")
    assert 0 < result.label_quality < 1  # the run scores the answers' consensus (2 of 3)
    current = item_label(project=project, item=items[0])
    assert (current.label, current.label_source, current.consensus, current.label_quality) == (
        "shallow scratch",
        "gold",
        "deep scratch",
        1.0,  # a decided label: nothing to doubt
    )


def test_not_enough_data_is_a_result_not_a_crash(project, staff):
    run = AgreementRun.objects.create(
        project=project, schema_version=project.schema_version, requested_by=staff
    )
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert "not_enough_data" in run.report


def test_only_one_run_in_flight_per_project(project, staff):
    AgreementRun.objects.create(project=project, schema_version=project.schema_version, status="running")
    with pytest.raises(Conflict):
        agreement_run_request(project=project, requested_by=staff)


def test_finished_run_is_not_recomputed(project, staff):
    label(project, ANSWERS)
    run = AgreementRun.objects.create(
        project=project, schema_version=project.schema_version, requested_by=staff
    )
    agreement_run_compute(run_id=run.id)
    first = ItemResult.objects.filter(run=run).count()
    agreement_run_compute(run_id=run.id)  # a redelivered message
    run.refresh_from_db()
    assert run.attempts == 1 and ItemResult.objects.filter(run=run).count() == first


def test_slices_and_rating_levels(staff):
    project = ProjectFactory(created_by=staff, label_kind="rating", classes=["1", "2", "3", "4", "5"])
    answers = [["1", "2", "1"], ["4", "5", "4"], ["3", "3", "3"], ["5", "1", "3"]]
    metadata = {0: {"camera": "x"}, 1: {"camera": "x"}, 2: {"camera": "y"}, 3: {"camera": "y"}}
    label(project, answers, metadata)
    for level in ("ordinal", "interval"):
        AgreementRun.objects.filter(project=project).update(status="succeeded")
        run = AgreementRun.objects.create(
            project=project, schema_version=project.schema_version, params={"level": level}
        )
        agreement_run_compute(run_id=run.id)
        run.refresh_from_db()
        assert run.report["overall"]["level"] == level
        assert {row["value"] for row in run.report["slices"]["camera"]} == {"x", "y"}


def test_transcription_runs_report_wer_and_medoid_consensus(staff):
    project = ProjectFactory(created_by=staff, data_type="audio", label_kind="transcription", classes=[])
    answers = [
        ["Um, nearest gas station", "Umm nearest gas station", "um, nearest gas station"],
        ["call mom", "Call mom.", "call mum"],
        ["play some jazz", "play jazz", "play some jazz"],
    ]
    labelers, items = label(project, answers)
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.report["kind"] == "transcription"
    assert 0 < run.report["overall"]["extra"]["mean 1 − WER"] < 1
    result = ItemResult.objects.get(run=run, item=items[2])
    assert result.consensus == "play some jazz" and result.method == "medoid"
    # HLP as word accuracy, each labeler judged by the others (worked by hand: word edits over
    # the other labelers' words): 1 − 3/17, 1 − 5/18, 1 − 4/17; the project 1 − 12/52.
    hlp = run.report["hlp"]
    assert hlp["measure"] == "word accuracy (1 − WER)"
    assert hlp["project"]["hlp"] == pytest.approx(1 - 12 / 52, abs=1e-6)
    by_id = {row["labeler_id"]: row for row in run.report["labelers"]}
    rates = [by_id[user.id]["loo_rate"] for user in labelers]
    assert rates == pytest.approx([1 - 3 / 17, 1 - 5 / 18, 1 - 4 / 17], abs=1e-6)


def test_box_and_multi_class_projects_run(staff):
    boxes = ProjectFactory(created_by=staff, label_kind="boxes", classes=["dent", "scratch"])
    b = {"x": 10, "y": 10, "w": 40, "h": 30, "class": "dent"}
    box_labelers, _ = label(boxes, [[[b], [b], [{**b, "x": 14}]], [[b], [], [b]]])
    run = AgreementRun.objects.create(project=boxes, schema_version=boxes.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.report["kind"] == "boxes"
    assert ItemResult.objects.filter(run=run, method="fused").count() == 2
    # Box F1 against each other labeler: the shifted box still matches (IoU 0.82); the empty
    # answer on item 2 misses one box against each of the two others.
    assert run.report["hlp"]["project"]["hlp"] == pytest.approx(0.8)
    rates = {row["labeler_id"]: row["loo_rate"] for row in run.report["labelers"]}
    assert [rates[user.id] for user in box_labelers] == pytest.approx([6 / 7, 2 / 3, 6 / 7])
    multi = ProjectFactory(created_by=staff, label_kind="multi_classes", classes=["a", "b", "c"])
    label(multi, [[["a"], ["a", "b"], ["a"]], [["c"], ["c"], []], [["b"], ["b"], ["b"]]])
    run = AgreementRun.objects.create(project=multi, schema_version=multi.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.report["kind"] == "multi_classes" and run.headline_alpha is not None


def test_runs_start_automatically_when_enough_new_answers_arrive(
    project, staff, django_capture_on_commit_callbacks
):
    from consistency.services.agreement_runs import agreement_runs_start_due

    project.auto_run_every = 10
    project.save()
    label(project, ANSWERS[:3])  # 9 answers: not yet
    assert agreement_runs_start_due() == []
    label(project, ANSWERS[3:4])  # 12 answers
    with django_capture_on_commit_callbacks(execute=True):
        started = agreement_runs_start_due()
    assert len(started) == 1
    run = AgreementRun.objects.get(pk=started[0])
    assert run.trigger == "auto" and run.status == RunStatus.SUCCEEDED
    assert agreement_runs_start_due() == []  # nothing new since that run


def test_run_cut_off_mid_way_is_recomputed_and_published_once(project, staff):
    """A worker died after marking the run RUNNING: the redelivered message computes it again,
    and the results appear once, together with SUCCEEDED (never half-written)."""
    label(project, ANSWERS)
    run = AgreementRun.objects.create(
        project=project, schema_version=project.schema_version, status="running", attempts=1
    )
    assert not ItemResult.objects.filter(run=run).exists()
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.attempts == 2
    assert ItemResult.objects.filter(run=run).count() == len(ANSWERS)


def test_a_run_whose_publish_fails_ends_failed_with_nothing_stored(project, staff, monkeypatch):
    """A database error while publishing (a deadlock, a lost connection) rolls the results back
    and ends the run failed with its reason, instead of leaving it running until the reaper."""
    from django.db import OperationalError

    from consistency.services import agreement_runs

    label(project, ANSWERS)
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)

    def deadlock(*, run_id, results, staged=None):
        ItemResult.objects.filter(run_id=run_id).delete()
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(agreement_runs, "results_publish", deadlock)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "deadlock detected" in run.error
    assert run.report in (None, {}) and not ItemResult.objects.filter(run=run).exists()
