"""Adaptive overlap end to end: project settings over REST, the labeling loop under the policy
(compared with a from-scratch replay), labeler estimates on the submit path, policy changes."""

import math
import random

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from core.audit.models import AuditEvent
from labeling.adaptive import SHRINK_ANSWERS
from labeling.models import Annotation, Item, LabelerFit, Project, Role
from labeling.services.adaptive import labeler_fit_store
from labeling.services.assignments import assignment_reserve_next
from labeling.services.submissions import annotation_submit
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.helpers import client_for, error_code

pytestmark = pytest.mark.django_db

CLASSES = ["deep scratch", "shallow scratch", "dent", "none"]
ADAPTIVE = {"overlap_policy": "adaptive", "min_answers": 2, "max_answers": 4, "target_confidence": 0.9}
PAYLOAD = {"name": "Defects", "data_type": "record", "label_kind": "classes", "classes": CLASSES}


def _adaptive_project(**policy):
    return ProjectFactory(**{**ADAPTIVE, **policy})


def _labelers(project, n):
    users = [UserFactory() for _ in range(n)]
    for user in users:
        MembershipFactory(project=project, user=user, role=Role.LABELER)
    return users


def _items(project, n, **fields):
    return Item.objects.bulk_create(
        Item(project=project, kind="image", external_id=f"i{i}", target=project.initial_target, **fields)
        for i in range(n)
    )


def test_policy_fields_are_set_on_create_returned_and_give_new_items_min_answers(staff):
    response = client_for(staff).post("/api/projects/", {**PAYLOAD, **ADAPTIVE}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ADAPTIVE} == ADAPTIVE and body["overlap"] == 3
    project = Project.objects.get(pk=body["id"])
    added = client_for(staff).post(
        f"/api/projects/{project.id}/items/", [{"external_id": "a", "data": {"x": 1}}], format="json"
    )
    assert added.status_code in (200, 201, 202), added.json()
    assert Item.objects.get(project=project).target == 2
    fixed = client_for(staff).post("/api/projects/", PAYLOAD, format="json").json()
    assert fixed["overlap_policy"] == "fixed" and fixed["min_answers"] == 2 and fixed["max_answers"] == 5


BAD = [
    ({"min_answers": 0}, "min_answers"),
    ({"min_answers": 3, "max_answers": 2}, "max_answers"),
    ({"target_confidence": 0.5}, "target_confidence"),
    ({"target_confidence": 1.0}, "target_confidence"),
    ({"target_confidence": 1.5}, "target_confidence"),
    ({"overlap_policy": "sometimes"}, "overlap_policy"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_out_of_range_policy_settings_get_400_on_create_and_patch_and_change_nothing(staff, change, field):
    created = client_for(staff).post("/api/projects/", {**PAYLOAD, **ADAPTIVE, **change}, format="json")
    assert created.status_code == 400 and error_code(created) == "invalid"
    assert field in created.json()["error"]["fields"]
    assert not Project.objects.exists()

    project = ProjectFactory(created_by=staff)
    patched = client_for(staff).patch(f"/api/projects/{project.id}/", {**ADAPTIVE, **change}, format="json")
    assert patched.status_code == 400 and field in patched.json()["error"]["fields"]
    project.refresh_from_db()
    assert project.overlap_policy == "fixed" and not AuditEvent.objects.filter(project=project).exists()


def test_adaptive_overlap_needs_one_class_per_answer(staff):
    payload = {**PAYLOAD, "data_type": "audio", "label_kind": "transcription", "classes": [], **ADAPTIVE}
    response = client_for(staff).post("/api/projects/", payload, format="json")
    assert response.status_code == 400 and "overlap_policy" in response.json()["error"]["fields"]


def _reference_replay(
    values: list[str], *, low: int, high: int, target_confidence: float
) -> tuple[int, bool]:
    """The policy written from scratch for one item answered one labeler at a time, without a
    fit: (final target, flagged)."""
    target, flagged = low, False
    for n in range(1, len(values) + 1):
        seen = values[:n]
        share = max(seen.count(v) for v in set(seen)) / n
        if n >= low and share >= target_confidence:
            flagged = False
            continue
        if n >= target:
            if target < high:
                target += 1
            else:
                flagged = True
    return target, flagged


def test_the_labeling_loop_spends_answers_where_labelers_disagree_as_a_replay_predicts():
    project = _adaptive_project()
    truth = {item.id: random.Random(item.id).choice(CLASSES) for item in _items(project, 40)}
    gold = Item.objects.create(
        project=project, kind="image", external_id="gold", target=1, is_gold=True, gold_value="dent"
    )
    labelers = _labelers(project, 6)
    accuracy = {u.id: a for u, a in zip(labelers, [0.95, 0.9, 0.85, 0.8, 0.6, 0.5], strict=True)}
    rng = random.Random(7)
    active = list(labelers)
    while active:
        labeler = rng.choice(active)
        assignment = assignment_reserve_next(project=project, labeler=labeler)
        if assignment is None:
            active.remove(labeler)
            continue
        right = truth.get(assignment.item_id, "dent")
        wrong = [c for c in CLASSES if c != right]
        value = right if rng.random() < accuracy[labeler.id] else rng.choice(wrong)
        annotation_submit(item_id=assignment.item_id, labeler=labeler, value=value)

    answers_per_item = []
    for item in Item.objects.filter(project=project, is_gold=False):
        values = list(
            Annotation.objects.filter(item=item, is_current=True)
            .order_by("id")
            .values_list("value", flat=True)
        )
        target, flagged = _reference_replay(values, low=2, high=4, target_confidence=0.9)
        assert (item.target, item.disagrees_after_max) == (target, flagged), (item.id, values)
        assert len(values) == item.slots_taken <= item.target <= 4
        assert item.confidence == pytest.approx(max(values.count(v) for v in values) / len(values))
        answers_per_item.append(len(values))
    # Unanimous pairs stop at 2; disagreements get more; some end flagged at max.
    assert min(answers_per_item) == 2 and max(answers_per_item) == 4
    assert 2 < sum(answers_per_item) / len(answers_per_item) < 4
    assert Item.objects.filter(project=project, disagrees_after_max=True).exists()
    from labeling.selectors.projects import project_stats

    assert project_stats(project=project)["items_complete"] == 40  # each item at its own target
    doubles = Annotation.objects.values("item", "labeler").annotate(n=Count("pk")).filter(n__gt=1)
    assert not doubles.exists()
    gold.refresh_from_db()
    assert gold.target == 1 and gold.confidence is None  # gold holds no slot; the policy skips it


def _stored_fit(project, labelers, *, expert_accuracy=0.99, typical_accuracy=0.6):
    k = len(CLASSES)

    def matrix(accuracy):
        return [[accuracy if t == g else (1 - accuracy) / (k - 1) for g in range(k)] for t in range(k)]

    return labeler_fit_store(
        project=project,
        schema_version=project.schema_version,
        classes=CLASSES,
        priors=[1 / k] * k,
        confusion={labelers[0].id: matrix(expert_accuracy), labelers[1].id: matrix(0.4)},
        answers={labelers[0].id: 500, labelers[1].id: 500, labelers[2].id: 3},
        typical=matrix(typical_accuracy),
    )


def _shrunk(accuracy: float, answers: int, typical: float = 0.6) -> float:
    return (answers * accuracy + SHRINK_ANSWERS * typical) / (answers + SHRINK_ANSWERS)


def _posterior_by_hand(values_by_accuracy: list[tuple[float, int]]) -> float:
    """P(leading class) for answers (accuracy, class index) under a uniform prior, from scratch."""
    k = len(CLASSES)
    scores = []
    for true in range(k):
        p = 1 / k
        for accuracy, given in values_by_accuracy:
            p *= accuracy if given == true else (1 - accuracy) / (k - 1)
        scores.append(p)
    return max(scores) / sum(scores)


def test_with_a_fit_the_submit_path_uses_each_labelers_estimate():
    project = _adaptive_project(min_answers=1, max_answers=3)
    item, other = _items(project, 2)
    expert, weak, newcomer = _labelers(project, 3)
    _stored_fit(project, [expert, weak, newcomer])

    assert assignment_reserve_next(project=project, labeler=expert).item_id == item.id
    annotation_submit(item_id=item.id, labeler=expert, value="dent")
    item.refresh_from_db()
    # One expert answer is enough after min_answers = 1: their 0.99 on 500 answers, shrunk
    # towards the typical 0.6 by SHRINK_ANSWERS pseudo-answers, is still ≥ 0.9.
    expert_accuracy = _shrunk(0.99, 500)
    assert item.confidence == pytest.approx(expert_accuracy, abs=1e-6) and item.target == 1

    for labeler in (newcomer, weak):  # the newcomer has 3 answers: the typical labeler's estimate
        assignment = assignment_reserve_next(project=project, labeler=labeler)
        assert assignment.item_id == other.id
        annotation_submit(item_id=other.id, labeler=labeler, value="none")
    other.refresh_from_db()
    weak_accuracy = _shrunk(0.4, 500)
    assert other.confidence == pytest.approx(_posterior_by_hand([(0.6, 3), (weak_accuracy, 3)]), abs=1e-6)
    assert other.target == 3  # unsure: one more answer


def test_a_fit_from_an_older_schema_version_is_not_used():
    project = _adaptive_project(min_answers=1, max_answers=3)
    (item,) = _items(project, 1)
    expert, weak, newcomer = _labelers(project, 3)
    _stored_fit(project, [expert, weak, newcomer])
    from labeling.models import LabelSchemaVersion

    newer = LabelSchemaVersion.objects.create(
        project=project, number=2, published_at=project.schema_version.created_at
    )
    for c in project.schema_versions.get(number=1).classes.all():
        newer.classes.create(name=c.name, position=c.position)
    assignment_reserve_next(project=project, labeler=expert)
    annotation_submit(item_id=item.id, labeler=expert, value="dent")
    item.refresh_from_db()
    assert item.confidence == 1.0  # the majority-vote share, not the stale fit's 0.99


def _submit_queries(project, labelers) -> int:
    assignment = assignment_reserve_next(project=project, labeler=labelers[0])
    annotation_submit(item_id=assignment.item_id, labeler=labelers[0], value="dent")  # warm caches
    assignment = assignment_reserve_next(project=project, labeler=labelers[1])
    with CaptureQueriesContext(connection) as queries:
        annotation_submit(item_id=assignment.item_id, labeler=labelers[1], value="dent")
    return len(queries)


def test_the_submit_path_does_bounded_work_whatever_the_project_size():
    """Per answer: lock the item, read its answers, the fit and its labelers' estimates, update
    the item — five queries more than under fixed k, on 5 items as on 300."""
    fixed = ProjectFactory()
    _items(fixed, 5)
    baseline = _submit_queries(fixed, _labelers(fixed, 2))
    counts = []
    for n_items in (5, 300):
        project = _adaptive_project()
        _items(project, n_items)
        labelers = _labelers(project, 3)
        _stored_fit(project, labelers)
        counts.append(_submit_queries(project, labelers))
    assert counts == [baseline + 5, baseline + 5], (baseline, counts)


def test_a_policy_change_applies_to_open_items_only_and_is_audited(staff):
    project = ProjectFactory(created_by=staff, overlap=3)
    done, half, fresh = _items(project, 3)
    labelers = _labelers(project, 3)
    for labeler in labelers:
        assignment_reserve_next(project=project, labeler=labeler)  # fullest first: `done` fills up
        annotation_submit(item_id=done.id, labeler=labeler, value="dent")
    assignment_reserve_next(project=project, labeler=labelers[0])
    annotation_submit(item_id=half.id, labeler=labelers[0], value="dent")

    response = client_for(staff).patch(f"/api/projects/{project.id}/", ADAPTIVE, format="json")
    assert response.status_code == 200, response.json()
    targets = dict(Item.objects.filter(project=project).values_list("id", "target"))
    # done keeps k = 3; half (1 answer) and fresh get min_answers = 2.
    assert targets == {done.id: 3, half.id: 2, fresh.id: 2}
    event = AuditEvent.objects.get(project=project, action="project.overlap_policy")
    assert event.actor == staff and event.before["overlap_policy"] == "fixed"
    assert event.after["overlap_policy"] == "adaptive" and event.after["open_items_updated"] == 2

    back = client_for(staff).patch(f"/api/projects/{project.id}/", {"overlap_policy": "fixed"}, format="json")
    assert back.status_code == 200
    assert dict(Item.objects.filter(project=project).values_list("id", "target")) == {
        done.id: 3,
        half.id: 3,
        fresh.id: 3,
    }
    assert AuditEvent.objects.filter(project=project, action="project.overlap_policy").count() == 2


def test_reviewers_and_labelers_cannot_change_the_policy(project):
    for role in (Role.LABELER, Role.REVIEWER):
        member = MembershipFactory(project=project, role=role).user
        response = client_for(member).patch(f"/api/projects/{project.id}/", ADAPTIVE, format="json")
        assert response.status_code == 403
    project.refresh_from_db()
    assert project.overlap_policy == "fixed"


def test_the_refit_reads_answers_and_gold_and_the_beat_finds_due_projects():
    from consistency.services.labeler_fits import labeler_fit_refresh, labeler_fits_due

    project = _adaptive_project()
    items = _items(project, 30)
    labelers = _labelers(project, 3)
    fixed = ProjectFactory()
    assert labeler_fits_due() == []
    for item in items:
        for labeler in labelers[:2]:
            assignment_reserve_next(project=project, labeler=labeler)
            annotation_submit(
                item_id=item.id, labeler=labeler, value="dent" if labeler == labelers[0] else "none"
            )
    Item.objects.filter(pk=items[0].pk).update(is_gold=True, gold_value="dent")
    assert labeler_fits_due() == [project.id]
    fit = labeler_fit_refresh(project_id=project.id)
    assert fit.answers == 60 and fit.gold_items == 1 and fit.classes == CLASSES
    assert set(fit.estimates.values_list("labeler_id", flat=True)) == {labelers[0].id, labelers[1].id}
    assert all(math.isclose(sum(row), 1.0, abs_tol=1e-4) for e in fit.estimates.all() for row in e.confusion)
    assert labeler_fits_due() == [] and labeler_fit_refresh(project_id=fixed.id) is None
    assert LabelerFit.objects.count() == 1


def test_labelers_and_operations_pages_show_answers_per_item_and_labels_saved(client, staff):
    from consistency.selectors.operations import answers_per_item

    project = ProjectFactory(created_by=staff, overlap=3, **ADAPTIVE)
    rows = [("two0", 2, 2, False), ("two1", 2, 2, False), ("two2", 2, 2, False), ("two3", 2, 2, False)]
    rows += [("max", 4, 4, False), ("open", 3, 2, False), ("gold", 1, 0, True)]
    Item.objects.bulk_create(
        Item(project=project, kind="image", external_id=e, target=t, slots_taken=s, is_gold=g)
        for e, t, s, g in rows
    )
    Item.objects.filter(project=project, external_id="max").update(disagrees_after_max=True)
    figures = answers_per_item(project=project)
    assert figures["items_done"] == 5 and figures["mean"] == pytest.approx(12 / 5)
    assert [(r["answers"], r["items"]) for r in figures["distribution"]] == [(2, 4), (4, 1)]
    assert figures["saved"] == 3 * 5 - 12 and figures["saved_share"] == pytest.approx(0.2)
    assert figures["flagged"] == 1
    client.force_login(staff)
    for page in ("operations", "labelers"):
        html = client.get(f"/projects/{project.id}/{page}/").content.decode()
        assert "Answers per item" in html and "2.40" in html, page
        assert "Answers saved against fixed k = 3" in html and "20%" in html, page
