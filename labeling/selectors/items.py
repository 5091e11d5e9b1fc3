"""Reads on items for the import and list APIs, and for other apps' item pages."""

from django.db.models import QuerySet

from core.errors import NotFound
from labeling.models import Item, Project

LIST_FIELDS = ("id", "external_id", "kind", "data", "metadata", "quality", "target", "is_gold", "created_at")


def item_list(*, project: Project) -> QuerySet[Item]:
    """The project's items in id order, with only the columns the list shows."""
    return Item.objects.filter(project=project).order_by("id").only(*LIST_FIELDS)


def item_project_id(*, item_id: int) -> int:
    """The project an item belongs to (check membership before showing it); 404 if none."""
    project_id = Item.objects.filter(pk=item_id).values_list("project_id", flat=True).first()
    if project_id is None:
        raise NotFound("Item not found.")
    return project_id
