"""The adaptive overlap policy on the database: decide an item's target after each answer, apply
a policy change to open items, and store the labeler estimates a worker fitted.

The rules themselves are pure (``labeling.adaptive``). Per answer the work is bounded by the
item: its row locked, its current answers, the fit row and the estimates of its labelers — never
a pass over the project. The estimates are refitted on a worker (``consistency.services.
labeler_fits``) after agreement runs, and by beat when enough new answers arrived (a project
switched to adaptive gets its first fit within a minute).
"""

from collections.abc import Mapping, Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from core.audit.services import audit
from core.errors import Invalid
from labeling.adaptive import Decision, Estimates, decide, posterior
from labeling.models import (
    Annotation,
    Item,
    LabelerEstimate,
    LabelerFit,
    LabelKind,
    LabelSchemaVersion,
    OverlapPolicy,
    Project,
)

# A fit is used once it read this many answers; before that the majority-vote share decides.
MIN_FIT_ANSWERS = 100
POLICY_FIELDS = ("overlap_policy", "min_answers", "max_answers", "target_confidence")
ADAPTIVE_KINDS = {LabelKind.CLASSES, LabelKind.RATING}
MAX_ANSWERS_LIMIT = 50


def estimates_for(*, project_id: int, version_id: int, labelers: set[int]) -> Estimates | None:
    """The project's labeler estimates for these labelers, or None while there is no usable
    fit (none yet, too few answers, or fitted under an older schema version)."""
    fit = (
        LabelerFit.objects.filter(project_id=project_id)
        .only("id", "schema_version_id", "classes", "priors", "typical_confusion", "answers")
        .first()
    )
    if fit is None or fit.schema_version_id != version_id or fit.answers < MIN_FIT_ANSWERS:
        return None
    rows = LabelerEstimate.objects.filter(fit=fit, labeler_id__in=labelers).values_list(
        "labeler_id", "confusion", "answers"
    )
    own = {labeler: (matrix, n) for labeler, matrix, n in rows}
    return Estimates.from_matrices(
        classes=fit.classes,
        priors=fit.priors,
        confusion={labeler: matrix for labeler, (matrix, _) in own.items()},
        answers={labeler: n for labeler, (_, n) in own.items()},
        typical=fit.typical_confusion,
    )


def item_target_decide(*, project: Project, item_id: int, version_id: int) -> Decision | None:
    """After an answer on an item of an adaptive project (inside the submit's transaction):
    lock the item, read its current answers and set its target, confidence and flag.

    Concurrent answers on one item serialize on the item's row lock; the later one reads both
    answers (READ COMMITTED), so the last answer always decides with everything.
    """
    locked = Item.objects.select_for_update(of=("self",)).only("id", "target", "is_gold").filter(pk=item_id)
    item = next(iter(locked.order_by()), None)  # no ordering: Item's default joins the project
    if item is None or item.is_gold:
        return None
    rows = list(
        Annotation.objects.filter(item_id=item_id, is_current=True).values_list(
            "labeler_id", "value", "skip_reason"
        )
    )
    answers = [(labeler, value) for labeler, value, skip in rows if not skip and value is not None]
    estimates = estimates_for(
        project_id=project.id, version_id=version_id, labelers={labeler for labeler, _ in answers}
    )
    _, confidence = posterior(answers, estimates)
    decision = decide(
        target=item.target,
        answered=len(rows),
        valued=len(answers),
        confidence=confidence,
        min_answers=project.min_answers,
        max_answers=project.max_answers,
        target_confidence=project.target_confidence,
    )
    Item.objects.filter(pk=item_id).update(
        target=decision.target, confidence=confidence, disagrees_after_max=decision.disagrees_after_max
    )
    return decision


def policy_validate(*, project: Project, changes: Mapping) -> None:
    """400 unless the policy fields, as they would be after ``changes``, make sense."""
    policy = changes.get("overlap_policy", project.overlap_policy)
    low = changes.get("min_answers", project.min_answers)
    high = changes.get("max_answers", project.max_answers)
    target = changes.get("target_confidence", project.target_confidence)
    errors: dict[str, list[str]] = {}
    if policy not in OverlapPolicy.values:
        errors["overlap_policy"] = [f"One of: {', '.join(OverlapPolicy.values)}."]
    if not isinstance(low, int) or low < 1:
        errors["min_answers"] = ["At least 1."]
    elif not isinstance(high, int) or high < low or high > MAX_ANSWERS_LIMIT:
        errors["max_answers"] = [f"Between min_answers ({low}) and {MAX_ANSWERS_LIMIT}."]
    if not isinstance(target, int | float) or not 0.5 < target < 1:
        errors["target_confidence"] = ["Between 0.5 and 1, both excluded."]
    if policy == OverlapPolicy.ADAPTIVE and project.label_kind not in ADAPTIVE_KINDS:
        errors["overlap_policy"] = ["Adaptive overlap needs one class per answer (classes or rating)."]
    if errors:
        raise Invalid("The overlap policy settings are out of range.", fields=errors)


def _policy(project: Project) -> dict:
    return {field: getattr(project, field) for field in (*POLICY_FIELDS, "overlap")}


def policy_apply(*, project: Project, before: dict, acting_user: User | None) -> int:
    """Carry a policy change over to the project's open items (in the pool: slots left) and
    audit it. Items that are done, gold or flagged keep their target. Returns items updated.

    Under adaptive, an open item gets ``min_answers``, or one answer more than it has so the
    policy decides at its next answer (``labeling.adaptive.open_item_target``). Back to fixed,
    an open item gets k, never below the slots it has taken.
    """
    after = _policy(project)
    if all(after[field] == before[field] for field in POLICY_FIELDS):
        return 0
    open_items = Item.objects.filter(project=project, is_gold=False, slots_taken__lt=F("target"))
    updated = 0
    if project.is_adaptive:
        grown = Greatest(Value(project.min_answers), F("slots_taken") + 1)
        updated = open_items.update(
            target=Greatest(F("slots_taken"), Least(Value(project.max_answers), grown))
        )
    elif before["overlap_policy"] == OverlapPolicy.ADAPTIVE:
        updated = open_items.update(target=Greatest(F("slots_taken"), Value(project.overlap)))
    audit(
        project=project,
        actor=acting_user,
        action="project.overlap_policy",
        target=project.name,
        before=before,
        after={**after, "open_items_updated": updated},
    )
    return updated


def policy_snapshot(project: Project) -> dict:
    return _policy(project)


@transaction.atomic
def labeler_fit_store(
    *,
    project: Project,
    schema_version: LabelSchemaVersion,
    classes: Sequence[str],
    priors: Sequence[float],
    confusion: Mapping[int, Sequence[Sequence[float]]],
    answers: Mapping[int, int],
    typical: Sequence[Sequence[float]],
    gold_items: int = 0,
) -> LabelerFit:
    """Replace the project's labeler estimates with a new fit (one row per labeler)."""
    fit, _ = LabelerFit.objects.update_or_create(
        project=project,
        defaults={
            "schema_version": schema_version,
            "classes": list(classes),
            "priors": [float(p) for p in priors],
            "typical_confusion": [[float(x) for x in row] for row in typical],
            "answers": int(sum(answers.values())),
            "gold_items": gold_items,
            "fitted_at": timezone.now(),
        },
    )
    LabelerEstimate.objects.filter(fit=fit).delete()
    LabelerEstimate.objects.bulk_create(
        (
            LabelerEstimate(
                fit=fit,
                labeler_id=int(labeler),
                confusion=[[round(float(x), 6) for x in row] for row in matrix],
                answers=int(answers.get(labeler, 0)),
            )
            for labeler, matrix in confusion.items()
        ),
        batch_size=1000,
    )
    return fit
