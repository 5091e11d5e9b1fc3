"""Managers shape the labeling pool: raise k for a selection of items, want more answers on some
(schema changes, items a reviewer sends back), mark gold items (also a reviewer's resolution)."""

from collections.abc import Mapping

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Greatest

from core.errors import Invalid
from labeling.answers import answer_validate
from labeling.metadata import metadata_text
from labeling.models import Assignment, AssignmentStatus, Item, Project
from labeling.selectors.schema_versions import schema_version_current
from labeling.services.projects import MAX_OVERLAP


def items_select(*, project: Project, item_ids=None, external_ids=None, slice_filter=None) -> QuerySet[Item]:
    """Items of the project chosen by ids, external ids, or metadata values (a slice)."""
    if not (item_ids or external_ids or slice_filter):
        raise Invalid(
            "Choose items by item_ids, external_ids or slice.", fields={"items": ["Nothing selected."]}
        )
    items = Item.objects.filter(project=project)
    if item_ids:
        items = items.filter(pk__in=item_ids)
    if external_ids:
        items = items.filter(external_id__in=external_ids)
    for index, (key, value) in enumerate((slice_filter or {}).items()):
        # KeyTextTransform: the key is data, never ORM lookup syntax a client could abuse.
        alias = f"_slice_{index}"
        items = items.alias(**{alias: metadata_text(key)}).filter(**{alias: str(value)})
    return items


@transaction.atomic
def items_set_overlap(*, project: Project, items: QuerySet[Item], target: int) -> int:
    """Raise (or lower) k for the items. Never below the slots already taken: answers stay."""
    if not 1 <= target <= MAX_OVERLAP:
        raise Invalid(f"k must be between 1 and {MAX_OVERLAP}.", fields={"target": ["Out of range."]})
    return items.update(target=Greatest(F("slots_taken"), target))


def items_answers_wanted_add(*, project: Project, extra: Mapping[int, int]) -> None:
    """Want ``extra[item_id]`` more answers on each item of the project (its target grows), e.g.
    after a split, for the answers of the split class that no longer count. One UPDATE per
    distinct count; ids of other projects are ignored."""
    by_count: dict[int, list[int]] = {}
    for item_id, more in extra.items():
        by_count.setdefault(more, []).append(item_id)
    for more, item_ids in by_count.items():
        Item.objects.filter(project=project, pk__in=item_ids).update(target=F("target") + more)


def items_answers_more(*, items: QuerySet[Item], extra: int = 1) -> int:
    """Want ``extra`` more answers on each item than it has taken or was waiting for (a
    reviewer sends an item back, a manager asks for more); returns how many items changed."""
    return items.update(target=Greatest(F("target"), F("slots_taken")) + extra)


def items_gold_as_is(*, project: Project, values: Mapping[int, object]) -> int:
    """Mark the project's items ``values`` names gold with those values, as they are: values an
    agreement run chose (its consensus), so they are not validated again and no schema version
    is recorded with them. One UPDATE per item; returns how many items changed."""
    done = 0
    for item_id, value in values.items():
        done += Item.objects.filter(project=project, pk=item_id).update(is_gold=True, gold_value=value)
    return done


@transaction.atomic
def items_set_gold(*, project: Project, item: Item, value, acting_user: User | None = None) -> Item:
    """Mark an item as gold with its known answer (validated against the current schema)."""
    version = schema_version_current(project=project, with_classes=True)
    names = {c.name for c in version.classes.all()}
    item.gold_value = answer_validate(label_kind=project.label_kind, class_names=names, value=value)
    item.is_gold = True
    item.gold_version = version  # later schema changes map the value like any answer
    item.save(update_fields=["is_gold", "gold_value", "gold_version"])
    return item


@transaction.atomic
def items_unset_gold(*, item: Item) -> Item:
    """Back to the normal pool: the answers it got as gold now hold slots (k grows if needed)."""
    item = Item.objects.select_for_update().get(pk=item.pk)
    held = Assignment.objects.filter(item=item).exclude(status=AssignmentStatus.EXPIRED).count()
    item.is_gold = False
    item.gold_value = None
    item.gold_version = None
    item.slots_taken = held
    item.target = max(item.target, held, 1)
    item.save(update_fields=["is_gold", "gold_value", "gold_version", "slots_taken", "target"])
    return item
