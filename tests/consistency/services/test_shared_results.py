"""Runs whose answers equal the latest run's share its per-item results
(``AgreementRun.results_run``), and its report when nothing else changed: after review decisions
alone an automatic run loads no rows. Every reader must read the same through a sharing run as
through a run that computed afresh, and retention must keep shared results while a run still
shares them, then drop them."""

import json

import pytest
from django.db import connection
from django.db.models import RestrictedError

from consistency.models import AgreementRun, ItemResult, RunTrigger
from consistency.services.agreement_runs import agreement_run_compute, agreement_run_request
from consistency.services.measure.publish import partition_table
from consistency.services.reviews import review_act
from consistency.services.run_retention import agreement_runs_prune
from labeling.models import Item, Role
from labeling.services.assignments import assignment_reserve_next
from labeling.services.submissions import annotation_submit
from tests.factories import MembershipFactory
from tests.helpers import client_for, phone_defects_merged

pytestmark = pytest.mark.django_db


def _merged():
    """The demo's phone defects after the merge, the merge's own run computed."""
    project, manager, reviewer = phone_defects_merged()
    for run in AgreementRun.objects.filter(project=project, status="pending"):
        agreement_run_compute(run_id=run.id)
    return project, manager, reviewer


def _run(project, trigger, capture) -> AgreementRun:
    with capture(execute=True):
        run = agreement_run_request(project=project, requested_by=None, trigger=trigger)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return run


def _reads(client, project) -> dict:
    """What a pipeline, a reviewer and a manager read of the latest run (not its id)."""

    def body(response):
        assert response.status_code == 200, response
        return b"".join(response.streaming_content).decode()

    base = f"/api/projects/{project.id}"
    queue = client.get(f"{base}/disagreements/", {"page_size": 100})
    assert queue.status_code == 200
    return {
        "jsonl": body(client.get(f"{base}/export/")),
        "python path": body(client.get(f"{base}/export/", {"include": "answers"})),
        "ties excluded": body(client.get(f"{base}/export/", {"exclude": "ties", "format": "csv"})),
        "queue": json.dumps(queue.json()["results"], sort_keys=True),
        "likely wrong": json.dumps(
            client.get(f"{base}/disagreements/", {"order": "likely_wrong", "page_size": 100}).json(),
            sort_keys=True,
        ),
        "split": body(client.get(f"{base}/export/", {"split": "train:80,test:20", "seed": 3})),
    }


def _partition_exists(run: AgreementRun) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [partition_table(run.id)])
        return cursor.fetchone()[0] is not None


def test_decisions_alone_share_results_which_read_as_a_fresh_run_and_stay_until_unshared(
    settings, django_capture_on_commit_callbacks
):
    settings.CONCORD_RUN_RESULTS_KEEP = 1
    settings.CONCORD_RUN_RESULTS_GRACE_SECONDS = 0
    project, manager, reviewer = _merged()
    client = client_for(manager)
    capture = django_capture_on_commit_callbacks
    first = _run(project, RunTrigger.MANUAL, capture)
    assert first.results_run_id is None and len(first.inputs_digest) == 64

    tie = Item.objects.get(project=project, external_id="phone-019")
    review_act(project=project, item=tie, actor=reviewer, action="resolve", expected_version=0, value="dent")
    shared = _run(project, RunTrigger.AUTO, capture)  # the resolution made phone-019 gold
    assert shared.results_run_id == first.id and shared.results_digest == first.results_digest
    assert shared.inputs_digest != first.inputs_digest  # its report is computed (gold changed)
    assert shared.report["counts"] == first.report["counts"]
    assert not ItemResult.objects.filter(run_id=shared.id).exists()  # no rows of its own
    through_shared = _reads(client, project)
    quality = client.get(f"/api/projects/{project.id}/export/", {"include": "quality"})
    lines = [json.loads(line) for line in b"".join(quality.streaming_content).decode().splitlines()]
    assert next(r for r in lines if r["external_id"] == "phone-019")["label_quality"] == 1.0

    lacking = Item.objects.get(project=project, external_id="phone-012")
    review_act(project=project, item=lacking, actor=reviewer, action="lacks_information", expected_version=0)
    chained = _run(project, RunTrigger.AUTO, capture)  # "lacks information" is no input at all
    assert chained.results_run_id == first.id  # the owner of the rows, not the run sharing them
    assert chained.inputs_digest == shared.inputs_digest and chained.report == shared.report
    # Retention: the runs sharing nothing newer go; the shared rows stay.
    # (each run prunes once it lands: run_retention.agreement_runs_prune_on_commit)
    agreement_runs_prune(project_id=project.id)
    for run in (first, shared):
        run.refresh_from_db()
    assert shared.results_pruned and not first.results_pruned and _partition_exists(first)
    through_chained = _reads(client, project)

    fresh = _run(project, RunTrigger.MANUAL, capture)  # "Run now" always computes
    assert fresh.results_run_id is None and fresh.inputs_digest == chained.inputs_digest
    assert fresh.report | {"timing": None} == chained.report | {"timing": None}
    assert _reads(client, project) == through_chained
    assert through_chained["jsonl"] != through_shared["jsonl"]  # phone-012 left the export
    # The last run sharing them goes, and then the shared rows themselves, in one prune.
    agreement_runs_prune(project_id=project.id)
    for run in (first, chained):
        run.refresh_from_db()
    assert chained.results_pruned and first.results_pruned and not _partition_exists(first)
    assert _reads(client, project) == through_chained


def test_a_new_answer_is_measured_afresh_and_a_gold_value_shares_results(
    settings, django_capture_on_commit_callbacks
):
    project, manager, _ = _merged()
    client = client_for(manager)
    capture = django_capture_on_commit_callbacks
    first = _run(project, RunTrigger.MANUAL, capture)

    labeler = MembershipFactory(project=project, role=Role.LABELER).user
    assignment = assignment_reserve_next(project=project, labeler=labeler)
    annotation_submit(item_id=assignment.item_id, labeler=labeler, value="dent")
    answered = _run(project, RunTrigger.AUTO, capture)
    assert answered.results_run_id is None and answered.inputs_digest != first.inputs_digest
    assert answered.report["counts"]["answers"] == first.report["counts"]["answers"] + 1
    assert ItemResult.objects.filter(run_id=answered.id).count() == project.items.count()

    # The item most likely wrong becomes gold: it leaves the likely-wrong list at once.
    base = f"/api/projects/{project.id}/disagreements/"
    likely = client.get(base, {"order": "likely_wrong", "page_size": 100}).json()["results"]
    item = Item.objects.get(pk=likely[0]["item"])
    version = project.schema_version
    Item.objects.filter(pk=item.pk).update(is_gold=True, gold_value="none", gold_version=version)
    gold = _run(project, RunTrigger.AUTO, capture)
    assert gold.results_run_id == answered.id and gold.inputs_digest != answered.inputs_digest
    stored = ItemResult.objects.get(run_id=answered.id, item=item).label_quality
    assert stored == likely[0]["label_quality"] < 1.0  # the rows score the answers
    after = client.get(base, {"order": "likely_wrong", "page_size": 100}).json()["results"]
    assert [r["item"] for r in after] == [r["item"] for r in likely[1:]]


def test_a_run_whose_results_are_shared_is_not_deleted_alone(settings, django_capture_on_commit_callbacks):
    project, _, reviewer = _merged()
    first = _run(project, RunTrigger.MANUAL, django_capture_on_commit_callbacks)
    lacking = Item.objects.get(project=project, external_id="phone-012")
    review_act(project=project, item=lacking, actor=reviewer, action="lacks_information", expected_version=0)
    shared = _run(project, RunTrigger.AUTO, django_capture_on_commit_callbacks)
    assert shared.results_run_id == first.id
    with pytest.raises(RestrictedError):
        AgreementRun.objects.filter(pk=first.pk).delete()  # (the admin says so)
    AgreementRun.objects.filter(project=project).delete()  # together they go
    assert not AgreementRun.objects.filter(pk__in=[first.pk, shared.pk]).exists()
