"""Reads on items for the import and list APIs."""

from django.db.models import QuerySet

from labeling.models import Item, Project

LIST_FIELDS = ("id", "external_id", "kind", "data", "metadata", "quality", "target", "is_gold", "created_at")


def item_list(*, project: Project) -> QuerySet[Item]:
    """The project's items in id order, with only the columns the list shows."""
    return Item.objects.filter(project=project).order_by("id").only(*LIST_FIELDS)
