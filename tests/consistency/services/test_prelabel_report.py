"""The Labelers page's pre-label figures: answers given with and without the model's suggestion,
from the labeling loop through an agreement run, against a from-scratch reference."""

import random
from collections import Counter

import pytest

from consistency.models import Prediction
from labeling.api.labeling import _next_payload
from labeling.models import LabelKind, PrelabelExposure, Role
from labeling.services.submissions import annotation_submit
from tests.consistency.services.test_agreement_runs import ANSWERS, label
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory
from tests.helpers import agreement_run_now

pytestmark = pytest.mark.django_db

CLASSES = ["deep scratch", "shallow scratch", "dent", "none"]


def test_the_report_compares_answers_with_and_without_the_suggestion(client):
    project = ProjectFactory(classes=CLASSES, overlap=4)
    project.prelabels, project.prelabel_holdout = True, 0.3
    project.save()
    rng = random.Random(5)
    truth = [rng.choice(CLASSES) for _ in range(60)]
    model = [t if rng.random() < 0.6 else rng.choice(CLASSES) for t in truth]

    def answer(i, j, suggestion):
        if suggestion is not None and rng.random() < 0.7:
            return suggestion  # anchored: takes the model's answer
        return truth[i] if rng.random() < 0.8 else rng.choice(CLASSES)

    items = ItemFactory.create_batch(60, project=project)
    Prediction.objects.bulk_create(
        Prediction(project=project, item=item, model_version="m1", value=model[k])
        for k, item in enumerate(items)
    )
    labelers = [MembershipFactory(project=project, role=Role.LABELER).user for _ in range(4)]
    given = {}
    for j, user in enumerate(labelers):
        payload = _next_payload(project, user)
        while payload:
            i = next(k for k, item in enumerate(items) if item.id == payload["id"])
            value = answer(i, j, (payload["suggestion"] or {}).get("value"))
            annotation_submit(item_id=payload["id"], labeler=user, value=value)
            given[(i, j)] = value
            payload = _next_payload(project, user, known_free=True)
    report = agreement_run_now(project).report["prelabels"]

    shown = {
        (e.assignment.item_id, e.assignment.labeler_id): e.shown
        for e in PrelabelExposure.objects.select_related("assignment")
    }
    reference = {"shown": [[], []], "held_out": [[], []]}
    for (i, j), value in given.items():
        arm = "shown" if shown[(items[i].id, labelers[j].id)] else "held_out"
        reference[arm][0].append(value == model[i])
        others = Counter(given[(i, k)] for k in range(4) if k != j)
        top = others.most_common()
        if len(top) == 1 or top[0][1] > top[1][1]:
            reference[arm][1].append(value == top[0][0])
    for arm, (with_model, with_others) in reference.items():
        assert report[arm]["n"] == len(with_model)
        assert report[arm]["with_model"] == pytest.approx(sum(with_model) / len(with_model))
        assert report[arm]["n_others"] == len(with_others)
        assert report[arm]["with_others"] == pytest.approx(sum(with_others) / len(with_others))
    estimate, low, high = report["difference"]["with_model"]
    assert estimate == pytest.approx(
        report["shown"]["with_model"] - report["held_out"]["with_model"], abs=1e-4
    )
    assert low < estimate < high and low > 0  # anchoring this strong is beyond noise
    assert report["accepted_unchanged"] == sum(reference["shown"][0])
    assert report["model_versions"] == ["m1"]
    client.force_login(project.created_by)
    html = client.get(f"/projects/{project.id}/labelers/").content.decode()
    assert "Pre-labels: does the model" in html and "they anchor on it" in html
    assert f"{report['accepted_unchanged']} suggestions were accepted unchanged" in html


def test_transcripts_are_scored_as_word_accuracy_in_both_arms():
    project = ProjectFactory(data_type="audio", label_kind=LabelKind.TRANSCRIPTION, classes=[], overlap=2)
    project.prelabels = True
    project.prelabel_holdout = 0.5
    project.save()
    items = ItemFactory.create_batch(12, project=project)
    Prediction.objects.bulk_create(
        Prediction(project=project, item=item, model_version="asr", value="turn left at the light")
        for item in items
    )
    labelers = [MembershipFactory(project=project, role=Role.LABELER).user for _ in range(2)]
    for user in labelers:
        payload = _next_payload(project, user)
        while payload:
            # with the suggestion: copied; without it: "turn right at the light" (1 edit of 5 words)
            value = payload["suggestion"]["value"] if payload["suggestion"] else "turn right at the light"
            annotation_submit(item_id=payload["id"], labeler=user, value=value)
            payload = _next_payload(project, user, known_free=True)
    report = agreement_run_now(project).report["prelabels"]
    assert report["shown"]["with_model"] == pytest.approx(1.0)
    assert report["held_out"]["with_model"] == pytest.approx(1 - 1 / 5)
    exposures = list(PrelabelExposure.objects.select_related("assignment"))
    assert report["shown"]["n"] + report["held_out"]["n"] == len(exposures) == 24


def test_no_prelabels_no_section(project):
    label(project, ANSWERS)
    assert "prelabels" not in agreement_run_now(project).report
