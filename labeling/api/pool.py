"""Pool management for reviewers and managers: raise k for items or a slice, set gold answers."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.serializers import StrictInputSerializer
from core.errors import NotFound
from labeling.models import Item
from labeling.selectors.projects import REVIEW_ROLES, project_get_for_member
from labeling.services.pool import items_select, items_set_gold, items_set_overlap, items_unset_gold
from labeling.services.projects import MAX_OVERLAP


class SelectionSerializer(StrictInputSerializer):
    item_ids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=100_000)
    external_ids = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, max_length=100_000
    )
    slice = serializers.DictField(
        child=serializers.CharField(max_length=255), required=False, help_text="metadata field → value"
    )


class ItemsOverlapApi(APIView):
    class InputSerializer(SelectionSerializer):
        target = serializers.IntegerField(min_value=1, max_value=MAX_OVERLAP, help_text="The new k.")

    @extend_schema(
        request=InputSerializer,
        responses=OpenApiTypes.OBJECT,
        summary="Set k (labelers per item) for a selection of items",
    )
    def post(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        items = items_select(
            project=project,
            item_ids=v.get("item_ids"),
            external_ids=v.get("external_ids"),
            slice_filter=v.get("slice"),
        )
        updated = items_set_overlap(project=project, items=items, target=v["target"])
        return Response({"updated": updated, "target": v["target"]})


class ItemGoldApi(APIView):
    class InputSerializer(StrictInputSerializer):
        value = serializers.JSONField(help_text="The known answer, in the project's answer shape.")

    def _item(self, request, project_id: int, item_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
        item = Item.objects.filter(project=project, pk=item_id).first()
        if item is None:
            raise NotFound("Item not found.")
        return project, item

    @extend_schema(
        request=InputSerializer,
        responses=OpenApiTypes.OBJECT,
        summary="Mark an item as gold with its known answer",
    )
    def put(self, request, project_id: int, item_id: int):
        project, item = self._item(request, project_id, item_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = items_set_gold(
            project=project, item=item, value=data.validated_data["value"], acting_user=request.user
        )
        return Response({"id": item.id, "is_gold": True, "gold_value": item.gold_value})

    @extend_schema(
        request=None, responses={204: None}, summary="Unmark a gold item (it returns to the normal pool)"
    )
    def delete(self, request, project_id: int, item_id: int):
        _, item = self._item(request, project_id, item_id)
        items_unset_gold(item=item)
        return Response(status=204)
