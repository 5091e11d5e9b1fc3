"""The review queue's "model disagrees" filter reads predictions through the schema mappings."""

import pytest

from consistency.models import AgreementRun, Prediction, RunStatus
from consistency.selectors.reviews import disagreement_queue
from consistency.selectors.runs import run_latest
from consistency.services.agreement_runs import agreement_run_compute
from consistency.services.schema_changes import schema_change_apply
from labeling.models import Role
from labeling.services.assignments import assignment_reserve_next
from labeling.services.submissions import annotation_submit
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import MembershipFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


def _predict(project, item, value, version):
    Prediction.objects.create(
        project=project, item=item, model_version="m1", value=value, schema_version=version
    )


def test_after_a_merge_a_prediction_of_a_merged_class_agrees_with_the_merged_consensus(
    project, staff, django_capture_on_commit_callbacks
):
    _, items = label(project, ANSWERS)
    v1 = project.schema_version
    _predict(project, items[0], "deep scratch", v1)  # consensus under v2: scratch → agrees
    _predict(project, items[1], "dent", v1)  # scratch → disagrees
    _predict(project, items[2], "shallow scratch", v1)  # dent → disagrees
    _predict(project, items[3], "none", v1)  # none → agrees
    _predict(project, items[4], "shallow scratch", None)  # version unknown: read from v1 → agrees
    with django_capture_on_commit_callbacks(execute=True):
        schema_change_apply(
            project=project,
            op="merge",
            params={
                "classes": ["deep scratch", "shallow scratch"],
                "into": "scratch",
                "keep_instructions": True,
            },
            note="depth is not visible",
            actor=staff,
            dry_run=False,
        )
    run = run_latest(project=project)
    assert run.schema_version.number == 2
    assert run.item_results.get(item=items[0]).consensus == "scratch"

    listed = set(
        disagreement_queue(project=project, run=run, model_disagrees=True).values_list("item", flat=True)
    )
    assert listed == {items[1].id, items[2].id}
    agreeing = disagreement_queue(project=project, run=run, model_disagrees=False)
    # The rest of the queue: item 5 ("dent", "dent", "none") has no prediction.
    assert set(agreeing.values_list("item", flat=True)) == {items[5].id}
    # The page and the API read the same filter.
    body = (
        client_for(staff)
        .get(f"/api/projects/{project.id}/disagreements/", {"model_disagrees": "true"})
        .json()
    )
    assert {row["item"] for row in body["results"]} == {items[1].id, items[2].id}


def test_a_prediction_of_a_class_split_since_differs_from_nothing(project, staff):
    _, items = label(project, ANSWERS)
    _predict(project, items[3], "dent", project.schema_version)  # consensus none: disagrees under v1
    _predict(project, items[5], "dent", project.schema_version)
    schema_change_apply(
        project=project,
        op="split",
        params={"class": "dent", "into": ["small dent", "crushed corner"], "keep_instructions": True},
        note="corners",
        actor=staff,
        dry_run=False,
    )
    # The re-queued items get answers with the new classes before the run (a run over classes
    # nobody has used yet fails in measure_categorical's consensus summary: reported apart).
    for value in ("small dent", "crushed corner", "small dent"):
        newcomer = MembershipFactory(project=project, role=Role.LABELER).user
        while (assignment := assignment_reserve_next(project=project, labeler=newcomer)) is not None:
            annotation_submit(item_id=assignment.item_id, labeler=newcomer, value=value)
    run = AgreementRun.objects.get(project=project)  # the change's own run, still pending here
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.schema_version.number == 2, run.error
    # Item 3's three labelers agree on "none"; its v1 "dent" prediction has no reading under v2,
    # so the model disagrees with nothing there (read raw, "dent" != "none" listed it).
    listed = disagreement_queue(project=project, run=run, model_disagrees=True)
    assert not listed.filter(item__in=[items[3], items[5]]).exists()
