import io

import numpy as np
import pytest
import soundfile as sf
from django.core.management import call_command

from consistency.models import AgreementRun
from demo.audio import speech_clips
from demo.images import DEFECT_CLASSES, demo_image_specs, phone_surface_with_box
from demo.records import person_record_pairs
from labeling.models import Annotation, Item, Project


def test_images_are_deterministic_and_the_defect_is_inside_its_box():
    a, box = phone_surface_with_box("deep scratch", seed=3)
    b, _ = phone_surface_with_box("deep scratch", seed=3)
    plain, no_box = phone_surface_with_box("none", seed=3)
    assert a.size == (320, 240) and np.array_equal(np.asarray(a), np.asarray(b))
    assert no_box is None
    diff = np.abs(np.asarray(a, dtype=int) - np.asarray(plain, dtype=int)).sum(axis=2)
    inside = diff[box["y"] : box["y"] + box["h"], box["x"] : box["x"] + box["w"]].sum()
    assert inside > 0.5 * diff.sum()
    assert {s["defect"] for s in demo_image_specs()} == set(DEFECT_CLASSES)


def test_speech_clips_are_16k_mono_and_short():
    clips = speech_clips()
    assert len(clips) == 10
    for clip in clips:
        audio, rate = sf.read(clip["path"])
        assert rate == 16_000 and audio.ndim == 1 and 0.5 < len(audio) / rate < 5
    assert clips[0]["transcript"] == "Um, nearest gas station"


def test_record_pairs_have_both_answers():
    pairs = person_record_pairs(n=40, seed=0)
    assert {p["truth"] for p in pairs} == {0, 1}
    assert pairs == person_record_pairs(n=40, seed=0)
    assert {"name", "email", "phone", "birth_date", "city"} <= set(pairs[0]["left"])


@pytest.mark.django_db
def test_demo_command_is_idempotent_and_shows_real_disagreement(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", stdout=out)
    call_command("demo", stdout=io.StringIO())
    assert "labeler1" in out.getvalue() and "concord-demo" in out.getvalue()
    assert Project.objects.count() == 4
    assert Item.objects.count() == 24 + 10 + 40 + 16
    assert Annotation.objects.filter(item__project__name="Phone defects").count() == 3 * 24
    run = AgreementRun.objects.get(project__name="Phone defects")
    per_class = {row["class"]: row for row in run.report["per_class"]}
    assert per_class["deep scratch"]["most_confused_with"] == "shallow scratch"
    image = Item.objects.filter(project__name="Phone defects").first()
    assert image.media.size > 1000 and image.content_hash
    # The speech project plays the course's gap-to-HLP example: car noise comes first.
    from consistency.services.predictions import gap_table

    speech = Project.objects.get(name="Speech: nearest gas station")
    speech_run = AgreementRun.objects.get(project=speech)
    table = gap_table(project=speech, run=speech_run, model_version="demo-asr-v1", field="noise")
    assert table["measure"] == "word accuracy (1 − WER)"
    assert table["rows"][0]["slice"] == "car" and table["rows"][0]["gap"] > 0.2


@pytest.mark.django_db
def test_demo_box_project_measures_iou_agreement_and_box_consensus(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    from consistency.models import ItemResult

    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", stdout=io.StringIO())
    project = Project.objects.get(name="Phone defects: boxes")
    assert project.label_kind == "boxes"
    run = AgreementRun.objects.get(project=project)
    assert run.status == "succeeded", run.error
    alpha = run.report["overall"]["alpha"]
    assert alpha is not None and 0.2 < alpha < 0.99  # real disagreement, not noise or unanimity
    boxes = [r.consensus for r in ItemResult.objects.filter(run=run) if r.consensus]
    assert boxes and all({"x", "y", "w", "h", "class"} <= set(b[0]) for b in boxes)


def test_demo_speech_answers_write_the_filler_in_both_cases():
    import random

    from demo.services import _transcript_answer

    class Clip:
        metadata = {"_transcript": "Umm, nearest gas station"}

    fillers = {_transcript_answer(Clip, 1.0, random.Random(i)).split(" ")[0] for i in range(200)}
    assert {"Um,", "Umm,", "um,", "umm,"} <= fillers
