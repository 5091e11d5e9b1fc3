"""Reviews of the disagreement queue's items (``consistency.selectors.reviews``): resolve, send
back for more labels, mark that x lacks the information, tag as an example; comments; the audit
log."""

from functools import partial

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from consistency.models import Comment, Review, ReviewStatus
from consistency.services.autorun import agreement_run_soon_on_commit
from core.audit.services import audit
from core.errors import Conflict, Invalid
from labeling.models import Item, Project
from labeling.services.pool import items_answers_more, items_set_gold

ACTIONS = ("resolve", "send_back", "lacks_information", "tag_example", "start_review")
DECISIONS = ("resolve", "lacks_information")


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
    actor: User,
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
    audit_attempt = partial(
        audit, project=project, actor=actor, action=f"review.{action}", target=f"item {item.external_id}"
    )
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
            audit_attempt(before=before, after=_state(review))
            if action in DECISIONS:  # the figures catch up on their own (labels already have it)
                agreement_run_soon_on_commit(project_id=project.id)
            return review
    attempted = {"attempted_value": value, "expected_version": expected_version}
    audit_attempt(before=before, after=attempted, outcome="conflict")
    raise Conflict(
        "Someone else acted on this item first; here is its current state.", extra={"current": before}
    )


def _apply(project: Project, item: Item, review: Review, action: str, value: object, actor: User) -> None:
    if action == "resolve":
        # The decision is the item's gold: only classes of the current version (a class a later
        # change removed is refused, 400), and the version is stored so later changes map the
        # decision like any answer.
        item = items_set_gold(project=project, item=item, value=value, acting_user=actor)
        review.status, review.final_value = ReviewStatus.RESOLVED, item.gold_value
        review.final_version = item.gold_version
        review.resolved_by, review.resolved_at = actor, timezone.now()
    elif action == "send_back":
        items_answers_more(items=Item.objects.filter(pk=item.pk))
        review.status = ReviewStatus.OPEN
    elif action == "lacks_information":
        review.status = ReviewStatus.LACKS_INFORMATION
    elif action == "tag_example":
        review.is_example = not review.is_example
    elif action == "start_review":
        review.status = ReviewStatus.IN_REVIEW


def comment_add(*, item: Item, author: User, text: str) -> Comment:
    text = (text or "").strip()
    if not text:
        raise Invalid("A comment needs text.", fields={"text": ["Empty."]})
    if len(text) > 10_000:
        raise Invalid("A comment is at most 10,000 characters.", fields={"text": ["Too long."]})
    return Comment.objects.create(item=item, author=author, text=text)
