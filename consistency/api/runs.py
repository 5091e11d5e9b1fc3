"""Agreement runs over REST: start one (202), read its status and report."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from consistency.models import AgreementRun
from consistency.services.agreement_runs import agreement_run_request
from consistency.services.measure import CONSENSUS_METHODS, LEVELS, RunParams
from core.api.serializers import StrictInputSerializer
from core.errors import NotFound
from labeling.selectors.projects import REVIEW_ROLES, project_get_for_member


class RunOut(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField(help_text="#1, #2, … within the project.")
    project = serializers.IntegerField(source="project_id")
    schema_version = serializers.IntegerField(source="schema_version.number")
    status = serializers.CharField()
    trigger = serializers.CharField()
    params = serializers.JSONField()
    progress = serializers.IntegerField()
    attempts = serializers.IntegerField()
    headline_alpha = serializers.FloatField(allow_null=True)
    annotation_count = serializers.IntegerField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.FloatField(allow_null=True)
    results_pruned_at = serializers.DateTimeField(
        allow_null=True,
        help_text="Set when the run's per-item results were pruned (only the latest "
        "CONCORD_RUN_RESULTS_KEEP runs keep them); its report stays. Exports and snapshots "
        "asking for this run answer 410.",
    )


class RunDetailOut(RunOut):
    report = serializers.JSONField(allow_null=True)


class AgreementRunListCreateApi(APIView):
    class InputSerializer(StrictInputSerializer):
        level = serializers.ChoiceField(choices=LEVELS, required=False, help_text="Krippendorff level.")
        consensus = serializers.ChoiceField(choices=CONSENSUS_METHODS, required=False)
        bootstrap = serializers.IntegerField(min_value=0, max_value=5000, required=False)
        seed = serializers.IntegerField(min_value=0, required=False)

    @extend_schema(responses=RunOut(many=True), summary="Agreement runs of the project, newest first")
    def get(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
        runs = AgreementRun.objects.filter(project=project).select_related("schema_version")
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response(RunOut(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={202: RunOut}, summary="Start an agreement run")
    def post(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        defaults = {"consensus": project.consensus_method}
        params = RunParams.from_dict({**defaults, **data.validated_data})
        run = agreement_run_request(project=project, requested_by=request.user, params=params)
        run.refresh_from_db()  # in-process mode has already computed it
        response = Response(RunOut(run).data, status=202)
        response["Location"] = request.build_absolute_uri(f"/api/agreement-runs/{run.id}/")
        return response


class AgreementRunDetailApi(APIView):
    @extend_schema(responses=RunDetailOut, summary="A run's status, timing, parameters and report")
    def get(self, request, run_id: int):
        run = AgreementRun.objects.select_related("schema_version").filter(pk=run_id).first()
        if run is None:
            raise NotFound("Project not found.")  # the same answer as for someone else's run
        project_get_for_member(project_id=run.project_id, user=request.user, roles=REVIEW_ROLES)
        return Response(RunDetailOut(run).data)
