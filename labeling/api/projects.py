"""Projects and members: thin views over services and selectors."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.serializers import StrictInputSerializer
from core.jobs.api import JobOut, job_accepted_response
from labeling.models import ConsensusMethod, DataType, LabelKind, OverlapPolicy, Role
from labeling.selectors.projects import (
    REVIEW_ROLES,
    project_detail_for_member,
    project_get_for_member,
    project_list_for_user,
    project_members,
)
from labeling.services.projects import MAX_OVERLAP, membership_set, project_create, project_update
from labeling.services.stats import project_stats_refresh_request


class LabelClassOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    color = serializers.CharField()
    hotkey = serializers.CharField(help_text="The key that picks the class in the workspace; blank: a digit.")


class ProjectOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    data_type = serializers.CharField()
    label_kind = serializers.CharField()
    overlap = serializers.IntegerField(help_text="k: answers per item under the fixed overlap policy.")
    overlap_policy = serializers.CharField(help_text="fixed (k answers per item) or adaptive.")
    min_answers = serializers.IntegerField(help_text="Adaptive: answers every item gets first.")
    max_answers = serializers.IntegerField(help_text="Adaptive: the most answers the policy asks for.")
    target_confidence = serializers.FloatField(
        help_text="Adaptive: an item stops once its leading class's posterior reaches this."
    )
    consensus_method = serializers.CharField()
    schema_version = serializers.IntegerField(source="schema_version_number", allow_null=True)
    role = serializers.CharField(source="my_role", help_text="The caller's role in this project.")
    item_count = serializers.IntegerField()
    annotation_count = serializers.IntegerField(
        allow_null=True, help_text="Current annotations by everyone; null for labelers (blind labeling)."
    )
    my_annotation_count = serializers.IntegerField()
    member_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance.my_role == Role.LABELER:
            data["annotation_count"] = None
        return data


class ProjectDetailOut(ProjectOut):
    gold_rate = serializers.FloatField()
    lease_seconds = serializers.IntegerField()
    auto_run_every = serializers.IntegerField()
    prelabels = serializers.BooleanField()
    prelabel_holdout = serializers.FloatField()
    prelabel_model_version = serializers.CharField()
    instructions = serializers.CharField(source="current_schema.instructions", default="")
    classes = LabelClassOut(source="current_schema.classes.all", many=True, default=list)


class ProjectListCreateApi(APIView):
    class InputSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=200)
        data_type = serializers.ChoiceField(choices=DataType.choices)
        label_kind = serializers.ChoiceField(choices=LabelKind.choices)
        classes = serializers.ListField(
            child=serializers.CharField(max_length=100), required=False, default=list
        )
        overlap = serializers.IntegerField(min_value=1, max_value=MAX_OVERLAP, default=3)
        instructions = serializers.CharField(required=False, allow_blank=True, default="", max_length=100_000)
        consensus_method = serializers.ChoiceField(
            choices=ConsensusMethod.choices, default=ConsensusMethod.MAJORITY
        )
        overlap_policy = serializers.ChoiceField(choices=OverlapPolicy.choices, required=False)
        min_answers = serializers.IntegerField(required=False)
        max_answers = serializers.IntegerField(required=False)
        target_confidence = serializers.FloatField(required=False)

    @extend_schema(responses=ProjectOut(many=True), summary="Projects the caller belongs to")
    def get(self, request):
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(project_list_for_user(user=request.user), request, view=self)
        return paginator.get_paginated_response(ProjectOut(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ProjectDetailOut}, summary="Create a project")
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = project_create(created_by=request.user, **data.validated_data)
        detail = project_detail_for_member(project_id=project.id, user=request.user)
        return Response(ProjectDetailOut(detail).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(APIView):
    class UpdateSerializer(StrictInputSerializer):
        name = serializers.CharField(max_length=200, required=False)
        overlap = serializers.IntegerField(min_value=1, max_value=MAX_OVERLAP, required=False)
        consensus_method = serializers.ChoiceField(choices=ConsensusMethod.choices, required=False)
        gold_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
        lease_seconds = serializers.IntegerField(min_value=10, max_value=86_400, required=False)
        auto_run_every = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False)
        alarms = serializers.DictField(child=serializers.FloatField(min_value=0, max_value=1), required=False)
        overlap_policy = serializers.ChoiceField(choices=OverlapPolicy.choices, required=False)
        min_answers = serializers.IntegerField(required=False)
        max_answers = serializers.IntegerField(required=False)
        target_confidence = serializers.FloatField(required=False)
        prelabels = serializers.BooleanField(required=False)
        prelabel_holdout = serializers.FloatField(min_value=0, max_value=1, required=False)
        prelabel_model_version = serializers.CharField(max_length=100, allow_blank=True, required=False)

        def validate_alarms(self, value):
            unknown = set(value) - {"agreement_drop", "min_labeler_hlp", "max_skip_rate"}
            if unknown:
                raise serializers.ValidationError(f"Unknown alarm(s): {', '.join(sorted(unknown))}.")
            return value

    @extend_schema(responses=ProjectDetailOut, summary="One project with its schema version and counts")
    def get(self, request, project_id: int):
        project = project_detail_for_member(project_id=project_id, user=request.user)
        return Response(ProjectDetailOut(project).data)

    @extend_schema(request=UpdateSerializer, responses=ProjectDetailOut, summary="Change settings (managers)")
    def patch(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project_update(project=project, acting_user=request.user, **data.validated_data)
        return Response(
            ProjectDetailOut(project_detail_for_member(project_id=project.id, user=request.user)).data
        )


class MembershipOut(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()
    created_at = serializers.DateTimeField()


class ProjectMembersApi(APIView):
    class InputSerializer(StrictInputSerializer):
        username = serializers.CharField(max_length=150)
        role = serializers.ChoiceField(choices=Role.choices)

    @extend_schema(responses=MembershipOut(many=True), summary="Members and roles (reviewers and managers)")
    def get(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
        return Response(MembershipOut(project_members(project=project), many=True).data)

    @extend_schema(request=InputSerializer, responses={201: MembershipOut, 200: MembershipOut})
    def post(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership, created = membership_set(project=project, acting_user=request.user, **data.validated_data)
        return Response(MembershipOut(membership).data, status=201 if created else 200)


class ProjectStatsRefreshApi(APIView):
    @extend_schema(request=None, responses={202: JobOut}, summary="Recompute project statistics (a job)")
    def post(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
        job = project_stats_refresh_request(project=project, requested_by=request.user)
        return job_accepted_response(request, job)
