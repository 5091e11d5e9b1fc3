"""The disagreement queue and item reviews over REST (reviewers and managers)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from consistency.selectors.labels import rows_with_labels
from consistency.selectors.queue_filters import FLAGS, ORDERS, parse_queue_filters
from consistency.selectors.reviews import disagreement_queue, review_detail, review_item_get
from consistency.selectors.runs import run_latest
from consistency.services.reviews import ACTIONS, comment_add, review_act
from core.api.serializers import StrictInputSerializer
from core.errors import Conflict
from labeling.selectors.items import item_project_id
from labeling.selectors.projects import REVIEW_ROLES, project_get_for_member


class QueueRowOut(serializers.Serializer):
    item = serializers.IntegerField(source="item_id")
    external_id = serializers.CharField(source="item.external_id")
    disagreement = serializers.FloatField(help_text="From the latest run.")
    # Declared fields are taken off the class by DRF's serializer metaclass: the stubs read this
    # as Field.label (a caption).
    label = serializers.JSONField(  # type: ignore[assignment]
        source="current.label", allow_null=True, help_text="The current label (what an export trains on)."
    )
    label_source = serializers.CharField(source="current.label_source", allow_null=True)
    consensus = serializers.JSONField(
        source="current.consensus",
        allow_null=True,
        help_text="The answers' consensus (current schema).",
    )
    confidence = serializers.FloatField(source="current.confidence", allow_null=True)
    is_tie = serializers.BooleanField(source="current.is_tie")
    n_answers = serializers.IntegerField(source="current.n_answers")
    first_class = serializers.CharField()
    second_class = serializers.CharField()
    status = serializers.SerializerMethodField()
    label_quality = serializers.FloatField(
        source="current.label_quality",
        allow_null=True,
        help_text="Likelihood the consensus is right (CROWDLAB); low = likely wrong; 1.0 once decided.",
    )
    disagrees_after_max = serializers.BooleanField(
        source="item.disagrees_after_max", help_text="Adaptive overlap: people disagree after max answers."
    )

    def get_status(self, row) -> str:
        return row.review_status or "open"


class DisagreementQueueApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("a", str, description="Class pair filter: items split between a and b."),
            OpenApiParameter("b", str),
            OpenApiParameter("slice", str, description="field:value"),
            OpenApiParameter("labeler", int),
            OpenApiParameter("status", str, enum=["open", "in_review", "resolved", "lacks_information"]),
            OpenApiParameter("model_disagrees", bool),
            OpenApiParameter(
                "order",
                str,
                enum=list(ORDERS),
                description="likely_wrong: scored items not gold or resolved, lowest label quality first.",
            ),
            OpenApiParameter(
                "max_quality", float, description="Only items whose label quality is below this."
            ),
            OpenApiParameter(
                "flag",
                str,
                enum=list(FLAGS),
                description="Adaptive overlap: people disagree after max answers.",
            ),
        ],
        responses=QueueRowOut(many=True),
        summary="Disagreeing items of the latest run, most disagreeing (or likely wrong) first",
    )
    def get(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
        run = run_latest(project=project)
        if run is None:
            raise Conflict("No finished agreement run yet: start one first.")
        rows = disagreement_queue(project=project, run=run, **parse_queue_filters(request.query_params))
        paginator = LimitOffsetPagination()
        page = rows_with_labels(project=project, rows=paginator.paginate_queryset(rows, request, view=self))
        return paginator.get_paginated_response(QueueRowOut(page, many=True).data)


def _item_for_reviewer(request, item_id: int):
    project_id = item_project_id(item_id=item_id)
    project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
    return project, review_item_get(project=project, item_id=item_id)


class ItemReviewApi(APIView):
    class InputSerializer(StrictInputSerializer):
        action = serializers.ChoiceField(choices=ACTIONS)
        expected_version = serializers.IntegerField(min_value=0, help_text="The review version you saw.")
        value = serializers.JSONField(
            required=False, allow_null=True, help_text="The final answer (resolve)."
        )

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Everything a reviewer needs about one item")
    def get(self, request, item_id: int):
        project, item = _item_for_reviewer(request, item_id)
        return Response(review_detail(project=project, item=item))

    @extend_schema(
        request=InputSerializer,
        responses=OpenApiTypes.OBJECT,
        summary="Resolve, send back, mark 'x lacks information', tag example",
    )
    def post(self, request, item_id: int):
        project, item = _item_for_reviewer(request, item_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review_act(project=project, item=item, actor=request.user, **data.validated_data)
        return Response(review_detail(project=project, item=item)["review"])


class ItemCommentsApi(APIView):
    class InputSerializer(StrictInputSerializer):
        text = serializers.CharField(max_length=10_000)

    @extend_schema(
        request=InputSerializer,
        responses={201: OpenApiTypes.OBJECT},
        summary="Add to the item's discussion (reviewers and managers)",
    )
    def post(self, request, item_id: int):
        _, item = _item_for_reviewer(request, item_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = comment_add(item=item, author=request.user, text=data.validated_data["text"])
        return Response({"id": comment.id, "author": request.user.username, "text": comment.text}, status=201)
