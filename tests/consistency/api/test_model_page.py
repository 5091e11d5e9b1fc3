"""The Model vs HLP page: a negative gap shown as such, items left out counted by reason, the
link to the queue of items where the model disagrees, and the manager's pre-label switch."""

import pytest

from consistency.models import AgreementRun, ItemResult, Prediction
from consistency.selectors.reviews import disagreement_queue
from consistency.services.agreement_runs import agreement_run_compute
from consistency.services.predictions import gap_table
from labeling.models import Item, Role
from labeling.services.assignments import assignment_reserve_next
from labeling.services.submissions import annotation_submit
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import ItemFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def measured(project):
    labelers, items = label(
        project, ANSWERS, metadata={i: {"factory": "A" if i < 3 else "B"} for i in range(6)}
    )
    tie = ItemFactory(project=project, metadata={"factory": "B"})
    for user, value in zip(labelers[:2], ["dent", "none"], strict=True):
        assert assignment_reserve_next(project=project, labeler=user).item_id == tie.id
        annotation_submit(item_id=tie.id, labeler=user, value=value)
    unanswered = ItemFactory(project=project, metadata={"factory": "B"})
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    run.refresh_from_db()
    consensus = dict(ItemResult.objects.filter(run=run).values_list("item_id", "consensus"))
    # The model matches the consensus on slice A, is wrong on item 3, predicts the tie and the
    # unanswered item, and has nothing for item 5.
    values = {items[0]: consensus[items[0].id], items[1]: consensus[items[1].id], items[2]: "dent"}
    values |= {items[3]: "dent", items[4]: consensus[items[4].id], tie: "dent", unanswered: "none"}
    Prediction.objects.bulk_create(
        Prediction(project=project, item=item, model_version="m1", value=value)
        for item, value in values.items()
    )
    return run, items, tie


def test_a_model_better_than_people_has_a_negative_gap(project, measured):
    run, _, _ = measured
    rows = {
        r["slice"]: r
        for r in gap_table(project=project, run=run, model_version="m1", field="factory")["rows"]
    }
    hlp_a = {r["value"]: r["rate"] for r in run.report["hlp"]["per_slice"]["factory"]}["A"]
    assert hlp_a < 1 and rows["A"]["model_accuracy"] == 1.0
    assert rows["A"]["gap"] == pytest.approx(hlp_a - 1.0) and rows["A"]["gap"] < 0
    assert rows["A"]["potential"] == pytest.approx(rows["A"]["gap"] * rows["A"]["share"])


def test_items_left_out_are_counted_with_their_reason(project, measured):
    run, _, _ = measured
    table = gap_table(project=project, run=run, model_version="m1", field="factory")
    assert table["scored_items"] == 5
    reasons = {row["reason"].split(":")[0].split(" (")[0]: row["items"] for row in table["left_out"]}
    assert reasons == {
        "predicted, but people tied": 1,
        "predicted, but without answers or a decision yet": 1,
        "with a label but no prediction from this model": 1,
    }


def test_the_page_shows_signs_reasons_and_links_the_filtered_queue(client, project, staff, measured):
    run, items, _ = measured
    client.force_login(staff)
    html = client.get(
        f"/projects/{project.id}/model/", {"version": "m1", "field": "factory"}
    ).content.decode()
    assert "model ahead of people" in html and "\u2212" in html  # a real minus sign, not 0%
    assert "people tied" in html and "no prediction from this model" in html
    assert f'href="/projects/{project.id}/review/?model_disagrees=true"' in html
    assert "1 item where the model disagrees with the consensus" in html
    # The filtered queue lists item 3 although its three labelers agree (unanimous "none").
    queue = disagreement_queue(project=project, run=run, model_disagrees=True)
    assert items[3].id in set(queue.values_list("item_id", flat=True))
    queue_page = client.get(f"/projects/{project.id}/review/", {"model_disagrees": "true"}).content.decode()
    assert items[3].external_id in queue_page


def test_managers_switch_prelabels_on_the_model_page_and_reviewers_cannot(client, project, staff, measured):
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user
    client.force_login(reviewer)
    url = f"/projects/{project.id}/model/prelabels/"
    assert client.post(url, {"prelabels": "on", "held_out_percent": "20"}).status_code == 403
    client.force_login(staff)
    response = client.post(url, {"prelabels": "on", "held_out_percent": "20", "model_version": "m1"})
    assert response.status_code == 302 and response["Location"].endswith("/model/#prelabels")
    project.refresh_from_db()
    assert (project.prelabels, project.prelabel_holdout, project.prelabel_model_version) == (True, 0.2, "m1")
    client.post(url, {"held_out_percent": "150"})
    project.refresh_from_db()
    assert project.prelabels and project.prelabel_holdout == 0.2  # refused, nothing changed
    html = client.get(f"/projects/{project.id}/model/").content.decode()
    assert "20% of items held out" in html
    assert Item.objects.filter(project=project).count() == 8
