"""The disagreement queue and its reviews: resolve, send back for more labels, mark that x lacks
the information, tag as an example; comments; the audit log.

Disagreement score (documented in the API): for categorical answers, the share of answer pairs
that disagree on the item (1 − pairwise agreement: 0 when unanimous, 1 when every pair differs;
ties rank high); for transcripts, 1 − the mean pairwise 1 − WER; for boxes, 1 − the mean matched
IoU share. Items with a score above 0, or a tie, are in the queue, and so are items the adaptive
overlap policy flagged ("people disagree after max answers").

Likely wrong first (``order="likely_wrong"``): every item the run scored, lowest label quality
first (CROWDLAB: the answers weighted by labeler quality, plus the model's probabilities when
uploaded), unanimous ones included, since a labeler-quality-weighted vote or a confident model can
doubt them too; ``max_quality`` keeps the items scored below a threshold.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, Exists, F, JSONField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from consistency.models import AgreementRun, Comment, ItemResult, Prediction, Review, ReviewStatus
from consistency.selectors.labels import decision_mappings
from consistency.services.autorun import agreement_run_soon_on_commit
from core.audit.services import audit
from core.errors import Conflict, Invalid
from labeling.answers import answer_validate
from labeling.metadata import metadata_text
from labeling.models import Annotation, Item, Project
from labeling.selectors.schema_versions import schema_version_latest

ACTIONS = ("resolve", "send_back", "lacks_information", "tag_example", "start_review")
DECISIONS = ("resolve", "lacks_information")


def disagreement_queue(
    *,
    project: Project,
    run: AgreementRun,
    class_pair: tuple[str, str] | None = None,
    slice_filter: tuple[str, str] | None = None,
    labeler_id: int | None = None,
    status: str | None = None,
    model_disagrees: bool | None = None,
    order: str = "disagreement",
    max_quality: float | None = None,
    flag: str | None = None,
) -> QuerySet[ItemResult]:
    """The run's disagreeing items, most disagreeing first (or likely wrong first), with their
    review status."""
    differs = _predictions_differing(project=project, run=run) if model_disagrees is not None else None
    results = ItemResult.objects.filter(run=run)
    if order == "likely_wrong" or max_quality is not None:
        results = results.filter(label_quality__isnull=False)
    else:
        in_queue = Q(disagreement__gt=0) | Q(is_tie=True) | Q(item__disagrees_after_max=True)
        if model_disagrees:
            # Where the model disagrees with a unanimous consensus, people may all be wrong: listed too.
            in_queue |= Q(Exists(differs))
        results = results.filter(in_queue)
    results = results.select_related("item").annotate(
        review_status=F("item__review__status"), review_version=F("item__review__version")
    )
    if order == "likely_wrong":
        results = results.order_by("label_quality", "-disagreement", "item_id")
    else:
        results = results.order_by("-is_tie", "-disagreement", "item_id")
    if max_quality is not None:
        results = results.filter(label_quality__lt=max_quality)
    if flag == "disagree_after_max":
        results = results.filter(item__disagrees_after_max=True)
    if class_pair:
        a, b = class_pair
        results = results.filter(Q(first_class=a, second_class=b) | Q(first_class=b, second_class=a))
    if slice_filter:
        field, value = slice_filter
        results = results.alias(_slice=metadata_text(field, "item__metadata")).filter(_slice=value)
    if labeler_id:
        results = results.filter(
            Exists(Annotation.objects.filter(item=OuterRef("item"), labeler_id=labeler_id, is_current=True))
        )
    if status:
        if status == ReviewStatus.OPEN:
            results = results.filter(Q(item__review__isnull=True) | Q(item__review__status=ReviewStatus.OPEN))
        else:
            results = results.filter(item__review__status=status)
    if model_disagrees is not None:
        results = results.filter(Exists(differs)) if model_disagrees else results.exclude(Exists(differs))
    return results


def _predictions_differing(*, project: Project, run: AgreementRun) -> QuerySet[Prediction]:
    """The item's predictions that differ from the run's consensus, each read through the
    mappings to the run's schema version: after a merge a prediction of "deep scratch" equals
    "scratch"; one of a class split since has no reading and differs from nothing. Class values
    only (boxes and lists are compared as stored)."""
    mappings = decision_mappings(project=project, version=run.schema_version)
    renamed, unreadable = [], Q(pk__in=[])
    for version_id, mapping in mappings.items():
        for old, new in mapping.items():
            # UNKNOWN_VERSION (0): predictions stored before their version was recorded.
            stored = Q(schema_version_id=version_id or None, value=old)
            if new is None:
                unreadable |= stored
            else:
                renamed.append(When(stored, then=Value(new, output_field=JSONField())))
    predictions = Prediction.objects.filter(item=OuterRef("item")).exclude(unreadable)
    if not renamed:  # nothing renamed behind the run's version: the stored values are its values
        return predictions.exclude(value=OuterRef("consensus"))
    read = Case(*renamed, default=F("value"), output_field=JSONField())
    return predictions.alias(read=read).exclude(read=OuterRef("consensus"))


def _state(review: Review | None) -> dict:
    if review is None:
        return {"status": ReviewStatus.OPEN, "final_value": None, "is_example": False, "version": 0}
    return {
        "status": review.status,
        "final_value": review.final_value,
        "is_example": review.is_example,
        "version": review.version,
    }


def review_act(
    *,
    project: Project,
    item: Item,
    actor: AbstractBaseUser,
    action: str,
    expected_version: int,
    value=None,
) -> Review:
    """Apply a reviewer's action if they saw the current version; otherwise 409 with the state.

    Both the successful and the refused attempt land in the audit log (the refused one is
    written after the locking transaction ends, so the 409 does not roll it back).
    """
    if action not in ACTIONS:
        raise Invalid(f"Unknown action {action!r}.", fields={"action": [f"One of: {', '.join(ACTIONS)}."]})
    with transaction.atomic():
        # An item nobody reviewed yet is at version 0; its row is made only by an action that
        # applies (a refused attempt at another version writes nothing but its audit event).
        locked = Review.objects.select_for_update()
        if expected_version == 0:
            review, _ = locked.get_or_create(item=item, defaults={"project": project})
        else:
            review = locked.filter(item=item).first() or Review(item=item, project=project)
        before = _state(review)
        if review.version == expected_version:
            _apply(project, item, review, action, value, actor)
            review.version += 1
            review.updated_by = actor
            review.save()
            audit(
                project=project,
                actor=actor,
                action=f"review.{action}",
                target=f"item {item.external_id}",
                before=before,
                after=_state(review),
            )
            if action in DECISIONS:  # the figures catch up on their own (labels already have it)
                agreement_run_soon_on_commit(project_id=project.id)
            return review
    audit(
        project=project,
        actor=actor,
        action=f"review.{action}",
        target=f"item {item.external_id}",
        before=before,
        after={"attempted_value": value, "expected_version": expected_version},
        outcome="conflict",
    )
    raise Conflict(
        "Someone else acted on this item first; here is its current state.", extra={"current": before}
    )


def _apply(project: Project, item: Item, review: Review, action: str, value, actor) -> None:
    if action == "resolve":
        # Only classes of the current version: a class a later change removed is refused (400),
        # and the version is stored so later changes map the decision like any answer.
        version = schema_version_latest(project=project)
        names = set(version.classes.values_list("name", flat=True))
        value = answer_validate(label_kind=project.label_kind, class_names=names, value=value)
        review.status, review.final_value, review.final_version = ReviewStatus.RESOLVED, value, version
        review.resolved_by, review.resolved_at = actor, timezone.now()
        Item.objects.filter(pk=item.pk).update(is_gold=True, gold_value=value, gold_version=version)
    elif action == "send_back":
        Item.objects.filter(pk=item.pk).update(target=Greatest(F("target"), F("slots_taken")) + 1)
        review.status = ReviewStatus.OPEN
    elif action == "lacks_information":
        review.status = ReviewStatus.LACKS_INFORMATION
    elif action == "tag_example":
        review.is_example = not review.is_example
    elif action == "start_review":
        review.status = ReviewStatus.IN_REVIEW


def comment_add(*, item: Item, author: AbstractBaseUser, text: str) -> Comment:
    text = (text or "").strip()
    if not text:
        raise Invalid("A comment needs text.", fields={"text": ["Empty."]})
    if len(text) > 10_000:
        raise Invalid("A comment is at most 10,000 characters.", fields={"text": ["Too long."]})
    return Comment.objects.create(item=item, author=author, text=text)
