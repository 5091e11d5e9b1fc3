"""Managers act on many items at once from the data browser: mark gold (the latest consensus
becomes the known answer), send to review, ask for more answers. Each is one statement per
action over the chosen items of the project, audited once."""

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F

from consistency.models import ItemResult, Review, ReviewStatus
from consistency.selectors.runs import run_latest
from core.audit.services import audit
from core.errors import Invalid, PermissionDenied
from labeling.models import Item, Project, ProjectMembership, Role
from labeling.services.pool import items_answers_more, items_gold_as_is

BULK_ACTIONS = {"gold": "Mark gold (consensus)", "review": "Send to review", "more": "Ask for more answers"}
MAX_BULK = 500
MAX_EXTRA = 10


@transaction.atomic
def items_bulk_act(
    *, project: Project, actor: User, item_ids: Sequence[int], action: str, extra: int = 1
) -> dict:
    """Returns ``{"done": n, "skipped": n}``; items of other projects are never touched."""
    if not ProjectMembership.objects.filter(project=project, user=actor, role=Role.MANAGER).exists():
        raise PermissionDenied("Only the project's managers act on many items at once.")
    if action not in BULK_ACTIONS:
        raise Invalid(f"Unknown action {action!r}.", fields={"action": list(BULK_ACTIONS)})
    ids = sorted(set(item_ids))
    if not ids:
        raise Invalid("Choose at least one item.", fields={"items": ["None chosen."]})
    if len(ids) > MAX_BULK:
        raise Invalid(f"At most {MAX_BULK} items at once.", fields={"items": ["Too many."]})
    if action == "more" and not 1 <= extra <= MAX_EXTRA:
        raise Invalid(f"Ask for 1 to {MAX_EXTRA} more answers.", fields={"extra": ["Out of range."]})
    items = Item.objects.select_for_update().filter(project=project, pk__in=ids)
    found = list(items.values_list("pk", flat=True))
    done = 0
    if action == "gold":
        run = run_latest(project=project)
        consensus = (
            dict(
                ItemResult.objects.of_run(run)
                .filter(item_id__in=found, consensus__isnull=False)
                .values_list("item_id", "consensus")
            )
            if run
            else {}
        )
        done = items_gold_as_is(project=project, values=consensus)
    elif action == "review":
        existing = set(Review.objects.filter(item_id__in=found).values_list("item_id", flat=True))
        Review.objects.bulk_create(
            Review(project=project, item_id=i, status=ReviewStatus.IN_REVIEW, updated_by=actor)
            for i in found
            if i not in existing
        )
        Review.objects.filter(item_id__in=existing).update(
            status=ReviewStatus.IN_REVIEW, version=F("version") + 1, updated_by=actor
        )
        done = len(found)
    else:
        done = items_answers_more(items=items, extra=extra)
    audit(
        project=project,
        actor=actor,
        action=f"items.{action}",
        target=f"{done} items",
        after={"items": found[:100], "extra": extra if action == "more" else None},
    )
    return {"done": done, "skipped": len(ids) - done}
