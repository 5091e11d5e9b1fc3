"""Demo data from the course notes: phone defects (classes and boxes), a speech project, and
"same person?" pairs, answered by simulated labelers, with a shadow model's predictions and a
first agreement run per project.

Media are generated locally (Pillow drawings, committed speech clips); nothing is downloaded.
"""

import hashlib
import io
import random
import uuid
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from consistency.models import AgreementRun, Prediction
from consistency.services.agreement_runs import agreement_run_request
from demo.audio import speech_clips
from demo.boxes import BOX_CLASSES, BOX_INSTRUCTIONS, box_answer
from demo.images import demo_image_specs, phone_surface_with_box
from demo.records import person_record_pairs
from labeling.imports.media import process_media
from labeling.models import Annotation, DataType, Item, LabelKind, Project, ProjectMembership, Role
from labeling.services.assignments import assignment_reserve_next
from labeling.services.items import RecordStats
from labeling.services.projects import project_create
from labeling.services.submissions import annotation_submit

User = get_user_model()

DEMO_PASSWORD = "concord-demo"
LABELERS = [f"labeler{i}" for i in range(1, 6)]
# Simulated labelers who already answered, with how often they get a clear item right.
SIMULATED = [("sim-ana", 0.95), ("sim-ben", 0.85), ("sim-chen", 0.7)]
DEMO_OVERLAP = 5  # 3 simulated answers per item, 2 slots left for the people trying the demo

DEFECT_INSTRUCTIONS = """Label the **worst** visible defect on the phone surface.

- **deep scratch**: a long line you could feel with a fingernail; dark and sharp.
- **shallow scratch**: a faint line, visible only in the light.
- **dent**: a rounded, shaded deformation.
- **none**: no defect.
"""
SPEECH_INSTRUCTIONS = """Transcribe exactly what is said.

- Write fillers as spoken for now (*um*, *umm*); the team will standardize them.
- Use `[unintelligible]` for words you cannot make out.
"""
PAIR_INSTRUCTIONS = """Are these two user records the **same person**?

- **1**: the same person (nicknames, typos and a moved city are fine).
- **0**: two different people, even if the names match.
"""


def _account(username: str, *, staff: bool = False):
    user, created = User.objects.get_or_create(username=username, defaults={"is_staff": staff})
    if created:
        user.email = f"{username}@concord.example"
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _project(manager, reviewer, labelers, **fields) -> Project:
    project = Project.objects.filter(name=fields["name"], created_by=manager).first()
    if project is None:
        project = project_create(created_by=manager, overlap=DEMO_OVERLAP, **fields)
        project.gold_rate = 0.1
        project.save(update_fields=["gold_rate"])
    for user, role in [(reviewer, Role.REVIEWER), *((labeler, Role.LABELER) for labeler in labelers)]:
        ProjectMembership.objects.get_or_create(project=project, user=user, defaults={"role": role})
    return project


def _add_media_item(project: Project, *, external_id: str, content: bytes, suffix: str, **fields) -> bool:
    if Item.objects.filter(project=project, external_id=external_id).exists():
        return False
    processed = process_media(content)  # the same path as an upload: quality, thumbnail, waveform
    item = Item(
        project=project,
        kind=project.data_type,
        external_id=external_id,
        target=project.initial_target,
        **fields,
    )
    item.content_hash = hashlib.sha256(content).hexdigest()
    item.quality = processed.quality
    stem = f"demo/{uuid.uuid4().hex}"
    item.media.save(f"{stem}{suffix}", ContentFile(content), save=False)
    if processed.thumbnail:
        item.thumbnail.save(f"{stem}.jpg", ContentFile(processed.thumbnail), save=False)
    if processed.waveform:
        item.waveform.save(f"{stem}.json", ContentFile(processed.waveform), save=False)
    item.save()
    return True


def _load_defects(project: Project, *, n: int = 24, gold: int = 3) -> None:
    for index, spec in enumerate(demo_image_specs(n=n, seed=0)):
        image, box = phone_surface_with_box(spec["defect"], seed=index, severity=spec.get("severity", 1.0))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG", optimize=True)
        metadata = {
            **spec.get("metadata", {}),
            "_generated_defect": spec["defect"],
            "_severity": spec["severity"],
        }
        if box is not None:
            metadata["_generated_box"] = box
        _add_media_item(
            project,
            external_id=spec["external_id"],
            content=buffer.getvalue(),
            suffix=".png",
            metadata=metadata,
            is_gold=index < gold,
            gold_value=spec["defect"] if index < gold else None,
            gold_version=project.schema_version if index < gold else None,
        )


def _load_speech(project: Project) -> None:
    for clip in speech_clips():
        path = Path(clip["path"])
        _add_media_item(
            project,
            external_id=clip.get("external_id") or path.stem,
            content=path.read_bytes(),
            suffix=path.suffix,
            metadata={**clip.get("metadata", {}), "_transcript": clip["transcript"]},
        )


def _load_pairs(project: Project) -> None:
    stats = RecordStats()
    existing = set(Item.objects.filter(project=project).values_list("external_id", flat=True))
    version = project.schema_version
    Item.objects.bulk_create(
        Item(
            project=project,
            kind=DataType.RECORD,
            target=project.initial_target,
            external_id=pair["external_id"],
            data={"left": pair["left"], "right": pair["right"]},
            quality=stats.add({"left": pair["left"], "right": pair["right"]}),
            metadata={**pair.get("metadata", {}), "_kind": pair["kind"], "_truth": str(pair["truth"])},
            is_gold=index < 4,
            gold_value=str(pair["truth"]) if index < 4 else None,
            gold_version=version if index < 4 else None,
        )
        for index, pair in enumerate(person_record_pairs(n=40, seed=0))
        if pair["external_id"] not in existing
    )


def _simulate(project: Project, answer) -> None:
    """Simulated labelers answer every item through the real assignment engine.

    ``answer(item, reliability, rng)`` returns a value; skipped if the project already has answers.
    """
    if Annotation.objects.filter(item__project=project).exists():
        return
    for index, (username, reliability) in enumerate(SIMULATED):
        user = _account(username)
        ProjectMembership.objects.get_or_create(project=project, user=user, defaults={"role": Role.LABELER})
        rng = random.Random(f"{project.name}:{index}")  # the same answers whatever the ids
        while (assignment := assignment_reserve_next(project=project, labeler=user)) is not None:
            value = answer(assignment.item, reliability, rng)
            if value is None:
                annotation_submit(item_id=assignment.item_id, labeler=user, skip_reason="lacks_information")
            else:
                annotation_submit(
                    item_id=assignment.item_id,
                    labeler=user,
                    value=value,
                    time_spent_ms=rng.randint(1500, 9000),
                )


def _defect_answer(item, reliability, rng):
    truth = item.metadata["_generated_defect"]
    ambiguous = truth.endswith("scratch") and item.metadata.get("_severity", 1) < 0.7
    if ambiguous and rng.random() < 0.45:  # deep and shallow scratch are hard to tell apart
        return "shallow scratch" if truth == "deep scratch" else "deep scratch"
    if rng.random() < reliability:
        return truth
    return rng.choice(["deep scratch", "shallow scratch", "dent", "none"])


def _pair_answer(item, reliability, rng):
    kind = item.metadata.get("_kind")
    truth = item.metadata.get("_truth")
    if kind == "sparse" and rng.random() < 0.5:
        return None  # x lacks the information to decide
    if kind in ("moved", "namesake", "sparse") and rng.random() < 0.4:
        return "0" if truth == "1" else "1"
    return truth if rng.random() < reliability else rng.choice(["1", "0"])


def _transcript_answer(item, reliability, rng):
    text = item.metadata.get("_transcript", "")
    if text.lower().startswith("um"):  # the course's example: everyone writes the filler differently
        _, rest = text.split(" ", 1)
        # Written both ways and both cases: "Um", "Umm", "um", "umm" (the tour's standardization).
        text = f"{rng.choice(['Um,', 'Umm,', 'um,', 'umm,', 'Um...', 'Uh,', ''])} {rest}".strip()
    if rng.random() > reliability:
        words = text.split()
        if len(words) > 2:
            words.pop(rng.randrange(len(words)))
        text = " ".join(words)
    return text if rng.random() > 0.1 else text.lower()


def _predictions(
    project: Project, truth_key: str, slice_key: str, weak_value: str, classes: list[str]
) -> None:
    """A simulated model in shadow mode: right 90% of the time, 60% on one weak slice."""
    if Prediction.objects.filter(project=project).exists():
        return
    rng = random.Random(f"{project.name}:model")
    rows = []
    for item in project.items.only("id", "metadata"):
        truth = item.metadata.get(truth_key)
        accuracy = 0.6 if str(item.metadata.get(slice_key)) == weak_value else 0.9
        value = truth if rng.random() < accuracy else rng.choice(classes)
        rows.append(
            Prediction(
                project=project,
                item=item,
                model_version="demo-model-v1",
                value=value,
                score=round(rng.uniform(0.5, 1.0), 2),
            )
        )
    Prediction.objects.bulk_create(rows)


def _speech_predictions(project: Project, weak_noise: str = "car") -> None:
    """A simulated speech recognizer in shadow mode: it drops or garbles a word now and then,
    much more often in car noise (the course's example of the slice to work on next)."""
    if Prediction.objects.filter(project=project).exists():
        return
    rng = random.Random(f"{project.name}:model")
    rows = []
    for item in project.items.only("id", "metadata"):
        words = item.metadata.get("_transcript", "").replace(",", "").split()
        error_rate = 0.6 if item.metadata.get("noise") == weak_noise else 0.1
        heard = []
        for word in words:
            roll = rng.random()
            if roll < error_rate / 2:
                continue  # dropped
            heard.append(word[:-1] + "a" if roll < error_rate and len(word) > 2 else word)
        rows.append(
            Prediction(
                project=project,
                item=item,
                model_version="demo-asr-v1",
                value=" ".join(heard),
                score=round(rng.uniform(0.5, 1.0), 2),
            )
        )
    Prediction.objects.bulk_create(rows)


def _start_run(project: Project, manager) -> None:
    if not AgreementRun.objects.filter(project=project).exists():
        agreement_run_request(project=project, requested_by=manager)


def demo_load() -> dict:
    manager = _account("manager", staff=True)
    reviewer = _account("reviewer")
    labelers = [_account(name) for name in LABELERS]

    defects = _project(
        manager,
        reviewer,
        labelers,
        name="Phone defects",
        data_type=DataType.IMAGE,
        label_kind=LabelKind.CLASSES,
        classes=["deep scratch", "shallow scratch", "dent", "none"],
        instructions=DEFECT_INSTRUCTIONS,
    )
    _load_defects(defects)
    _simulate(defects, _defect_answer)
    speech = _project(
        manager,
        reviewer,
        labelers,
        name="Speech: nearest gas station",
        data_type=DataType.AUDIO,
        label_kind=LabelKind.TRANSCRIPTION,
        instructions=SPEECH_INSTRUCTIONS,
    )
    _load_speech(speech)
    _simulate(speech, _transcript_answer)
    pairs = _project(
        manager,
        reviewer,
        labelers,
        name="Same person?",
        data_type=DataType.RECORD,
        label_kind=LabelKind.CLASSES,
        classes=["1", "0"],
        instructions=PAIR_INSTRUCTIONS,
    )
    _load_pairs(pairs)
    _simulate(pairs, _pair_answer)
    boxes = _project(
        manager,
        reviewer,
        labelers,
        name="Phone defects: boxes",
        data_type=DataType.IMAGE,
        label_kind=LabelKind.BOXES,
        classes=BOX_CLASSES,
        instructions=BOX_INSTRUCTIONS,
    )
    _load_defects(boxes, n=16, gold=0)
    _simulate(boxes, box_answer)
    _predictions(
        defects, "_generated_defect", "lighting", "dim", ["deep scratch", "shallow scratch", "dent", "none"]
    )
    _predictions(pairs, "_truth", "region", "APAC", ["1", "0"])
    _speech_predictions(speech)
    for project in (defects, speech, pairs, boxes):
        _start_run(project, manager)

    projects = [defects, speech, pairs, boxes]
    return {
        "projects": [{"id": p.id, "name": p.name, "items": p.items.count()} for p in projects],
        "accounts": [
            ("manager", "manager (staff)"),
            ("reviewer", "reviewer"),
            *((n, "labeler") for n in LABELERS),
        ],
    }
