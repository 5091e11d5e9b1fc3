"""The labeling loop over REST: `next` reserves an item; a submit stores the answer and
returns the caller's next item, so a labeler needs one round trip per item."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.serializers import StrictInputSerializer
from labeling.models import Project, SkipReason
from labeling.models.projects import LABELING_ROLES
from labeling.selectors.projects import project_get_for_member
from labeling.selectors.workspace import (
    assignment_payload,
    item_media_urls,
    labeler_answer_get,
    labeler_data,
    labeler_progress,
)
from labeling.services.assignments import assignment_reserve_next
from labeling.services.prelabels import prelabel_for
from labeling.services.submissions import annotation_submit, submission_authorize


class NextItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    kind = serializers.CharField()
    # A field named like Serializer.data: DRF's metaclass moves declared fields off the class,
    # which the stubs can't express.
    data = serializers.JSONField()  # type: ignore[assignment]
    media_url = serializers.CharField(allow_null=True)
    thumbnail_url = serializers.CharField(allow_null=True)
    waveform_url = serializers.CharField(allow_null=True)
    lease_expires_at = serializers.DateTimeField()
    suggestion = serializers.JSONField(
        allow_null=True,
        help_text="With pre-labels on: the model's answer {value, model_version} to accept or correct; "
        "null when off, when the item has no prediction, or for the held-out share of items.",
    )


class AnnotationOut(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField(source="item_id")
    value = serializers.JSONField(allow_null=True)
    skip_reason = serializers.CharField()
    comment = serializers.CharField()
    time_spent_ms = serializers.IntegerField()
    schema_version = serializers.IntegerField(source="schema_version.number")
    created_at = serializers.DateTimeField()


class SubmitOut(serializers.Serializer):
    annotation = AnnotationOut()
    next = NextItemOut(allow_null=True)


_DATETIME = serializers.DateTimeField()


def _next_payload(project: Project, user, *, known_free: bool = False) -> dict | None:
    """The next item as JSON-ready data (the shape of NextItemOut, built directly: hot path)."""
    assignment = assignment_reserve_next(project=project, labeler=user, known_free=known_free)
    if assignment is None:
        return None
    payload = assignment_payload(assignment)
    payload["lease_expires_at"] = _DATETIME.to_representation(payload["lease_expires_at"])
    payload["suggestion"] = prelabel_for(project=project, assignment=assignment)
    return payload


def _annotation_json(annotation) -> dict:
    """The shape of AnnotationOut, built directly (hot path)."""
    return {
        "id": annotation.id,
        "item": annotation.item_id,
        "value": annotation.value,
        "skip_reason": annotation.skip_reason,
        "comment": annotation.comment,
        "time_spent_ms": annotation.time_spent_ms,
        "schema_version": annotation.schema_version.number,
        "created_at": _DATETIME.to_representation(annotation.created_at),
    }


class NextItemApi(APIView):
    @extend_schema(
        responses={
            200: NextItemOut,
            204: OpenApiResponse(description="Nothing left for you in this project."),
        },
        summary="Reserve the caller's next item (a lease; an expired lease returns the slot to the pool)",
    )
    def get(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=LABELING_ROLES)
        payload = _next_payload(project, request.user)
        if payload is None:
            return Response(status=204)
        return Response(payload)


class AnnotationSubmitApi(APIView):
    class InputSerializer(StrictInputSerializer):
        value = serializers.JSONField(required=False, allow_null=True)
        skip_reason = serializers.ChoiceField(choices=SkipReason.choices, required=False, default="")
        comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
        time_spent_ms = serializers.IntegerField(required=False, default=0, min_value=0, max_value=86_400_000)

        def validate(self, attrs):
            if not attrs.get("skip_reason") and attrs.get("value") is None:
                raise serializers.ValidationError({"value": ["Give an answer, or a skip_reason to skip."]})
            return attrs

    @extend_schema(
        request=InputSerializer,
        responses={201: SubmitOut, 200: SubmitOut},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Retries with the same key store the answer once (200 instead of 201).",
            ),
            OpenApiParameter(
                "next",
                bool,
                OpenApiParameter.QUERY,
                required=False,
                description="false: do not reserve the next item (the response's `next` is null).",
            ),
        ],
        summary="Answer (or skip) your assigned item; the response carries your next item",
    )
    def post(self, request, item_id: int):
        data = self.InputSerializer(data=request.data)
        if not data.is_valid():
            # Authorization before validation: someone with no assignment learns nothing, not even
            # what a valid answer looks like (404), and a role that does not label gets its 403.
            submission_authorize(item_id=item_id, labeler=request.user)
            data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "")[:100]
        annotation, created = annotation_submit(
            item_id=item_id, labeler=request.user, idempotency_key=key, **data.validated_data
        )
        want_next = request.query_params.get("next", "true").lower() not in {"false", "0", "no"}
        project = annotation.assignment.project
        # A first answer used up the caller's reservation: no need to look for a live one.
        known_free = created and annotation.supersedes_id is None
        body = {
            "annotation": _annotation_json(annotation),
            "next": _next_payload(project, request.user, known_free=known_free) if want_next else None,
        }
        return Response(body, status=201 if created else 200)


class MyAnswerOut(serializers.Serializer):
    item = serializers.JSONField(help_text="The item as `next` shows it, without a lease.")
    annotation = AnnotationOut()


class MyAnswerApi(APIView):
    @extend_schema(
        responses={200: MyAnswerOut},
        summary="An item you answered, with your current answer: to go back and change it "
        "(a new submit supersedes it; the history is kept)",
    )
    def get(self, request, item_id: int):
        annotation = labeler_answer_get(item_id=item_id, labeler=request.user)
        item = annotation.item
        payload = {
            "id": item.id,
            "external_id": item.external_id,
            "kind": item.kind,
            "data": labeler_data(item.data),
        }
        return Response(
            {"item": {**payload, **item_media_urls(item)}, "annotation": _annotation_json(annotation)}
        )


class LabelerProgressApi(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        summary="The caller's own progress in the project (done today, total, open slots)",
    )
    def get(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user)
        return Response(labeler_progress(project=project, labeler=request.user))
