import pytest

from consistency.models import AgreementRun, Comment
from consistency.services.agreement_runs import agreement_run_compute
from core.audit.models import AuditEvent
from labeling.models import Item, Role
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import MembershipFactory
from tests.helpers import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def labeled(project, staff):
    labelers, items = label(project, ANSWERS)
    run = AgreementRun.objects.create(project=project, schema_version=project.schema_version)
    agreement_run_compute(run_id=run.id)
    return labelers, items


def test_queue_ranks_disagreements_and_filters_by_class_pair(project, staff, labeled):
    client = client_for(staff)
    body = client.get(f"/api/projects/{project.id}/disagreements/").json()
    rows = body["results"]
    assert {r["external_id"] for r in rows} == {labeled[1][i].external_id for i in (0, 1, 4, 5)}
    assert rows[0]["disagreement"] >= rows[-1]["disagreement"]
    pair = client.get(
        f"/api/projects/{project.id}/disagreements/", {"a": "deep scratch", "b": "shallow scratch"}
    )
    assert pair.json()["count"] == 3
    assert client.get(f"/api/projects/{project.id}/disagreements/", {"a": "dent"}).status_code == 400
    mine = client.get(f"/api/projects/{project.id}/disagreements/", {"labeler": labeled[0][2].id}).json()
    assert mine["count"] == 4


def test_resolve_makes_gold_and_a_stale_second_resolve_gets_409_with_state(project, staff, labeled):
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user
    item = labeled[1][0]
    first = client_for(staff).post(
        f"/api/items/{item.id}/review/",
        {"action": "resolve", "value": "deep scratch", "expected_version": 0},
        format="json",
    )
    assert first.status_code == 200 and first.json()["status"] == "resolved"
    second = client_for(reviewer).post(
        f"/api/items/{item.id}/review/",
        {"action": "resolve", "value": "shallow scratch", "expected_version": 0},
        format="json",
    )
    assert second.status_code == 409
    assert second.json()["error"]["current"]["final_value"] == "deep scratch"
    item.refresh_from_db()
    assert item.is_gold and item.gold_value == "deep scratch"
    outcomes = sorted(AuditEvent.objects.filter(action="review.resolve").values_list("outcome", flat=True))
    assert outcomes == ["conflict", "ok"]


def test_send_back_raises_k_and_comments_thread(project, staff, labeled):
    item = labeled[1][1]
    target = item.target
    client = client_for(staff)
    client.post(
        f"/api/items/{item.id}/review/", {"action": "send_back", "expected_version": 0}, format="json"
    )
    assert Item.objects.get(pk=item.id).target == target + 1
    client.post(
        f"/api/items/{item.id}/comments/", {"text": "Depth is not visible in this photo."}, format="json"
    )
    detail = client.get(f"/api/items/{item.id}/review/").json()
    assert len(detail["answers"]) == 3 and detail["answers"][0]["hlp"] is not None
    assert detail["comments"][0]["text"].startswith("Depth") and detail["review"]["version"] == 1
    assert Comment.objects.count() == 1


def test_labelers_cannot_see_or_act_on_reviews(project, labeled):
    labeler = labeled[0][0]
    client = client_for(labeler)
    item = labeled[1][0]
    assert client.get(f"/api/projects/{project.id}/disagreements/").status_code == 403
    assert client.get(f"/api/items/{item.id}/review/").status_code == 403
    assert client.post(f"/api/items/{item.id}/comments/", {"text": "hi"}, format="json").status_code == 403


def test_tagged_examples_appear_on_the_definitions_page(client, project, staff, labeled):
    item = labeled[1][0]
    client_for(staff).post(
        f"/api/items/{item.id}/review/", {"action": "tag_example", "expected_version": 0}, format="json"
    )
    client.force_login(staff)
    html = client.get(f"/projects/{project.id}/definitions/").content.decode()
    assert "Examples chosen by reviewers" in html and item.external_id in html


def test_member_changes_and_exports_are_audited(project, staff):
    from tests.factories import UserFactory, finished_run

    UserFactory(username="newbie")
    client = client_for(staff)
    client.post(f"/api/projects/{project.id}/members/", {"username": "newbie", "role": "labeler"})
    client.post(f"/api/projects/{project.id}/members/", {"username": "newbie", "role": "reviewer"})
    finished_run(project, [])
    assert client.get(f"/api/projects/{project.id}/export/").status_code == 200
    log = client.get(f"/api/projects/{project.id}/audit/").json()["results"]
    assert [e["action"] for e in log][:3] == ["export", "member.role", "member.add"]
    assert log[1]["before"] == {"role": "labeler"} and log[1]["after"] == {"role": "reviewer"}


def _resolve(client, item, value, version=0):
    return client.post(
        f"/api/items/{item.id}/review/",
        {"action": "resolve", "expected_version": version, "value": value},
        format="json",
    )


def test_resolutions_outside_the_current_schema_are_400_and_store_nothing(project, staff, labeled):
    from consistency.models import Review
    from consistency.services.schema_changes import schema_change_apply

    schema_change_apply(
        project=project,
        op="merge",
        params={"classes": ["deep scratch", "shallow scratch"], "into": "scratch", "keep_instructions": True},
        note="merge",
        actor=staff,
        dry_run=False,
    )
    client = client_for(staff)
    item = labeled[1][0]
    for value in ("deep scratch", "ghost", ["dent"], None):  # removed by the merge, unknown, wrong shapes
        response = _resolve(client, item, value)
        assert response.status_code == 400, (value, response.content)
        assert response.json()["error"]["fields"]
    item.refresh_from_db()
    assert not Review.objects.filter(item=item).exists() and not item.is_gold and item.gold_value is None
    assert _resolve(client, item, "scratch").status_code == 200
    review = Review.objects.get(item=item)
    assert (review.final_value, review.final_version.number, review.resolved_by) == ("scratch", 2, staff)


def test_resolving_an_item_of_another_project_is_404(project, staff, labeled):
    from tests.factories import ItemFactory, ProjectFactory

    other = ItemFactory(project=ProjectFactory())  # staff is no member of it
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER).user
    assert _resolve(client_for(reviewer), other, "dent").status_code == 404
    from django.test import Client

    browser = Client()
    browser.force_login(reviewer)
    page = browser.post(f"/projects/{project.id}/review/{other.id}/", {"action": "resolve", "value": "dent"})
    assert page.status_code == 404
    assert not other.__class__.objects.get(pk=other.pk).is_gold
