"""Consensus datasets over REST: a streamed export, and immutable snapshots."""

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseRedirect, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from consistency.exports import formats
from consistency.exports.params import ExportParamError, parse_export_params
from consistency.exports.source import export_source_get
from consistency.exports.stream import export_filename, export_stream
from consistency.models import DatasetSnapshot
from consistency.selectors.runs import freshness_header, run_freshness
from consistency.services.exports import snapshot_request
from core.audit.services import audit
from core.errors import Invalid, NotFound
from core.jobs.api import job_accepted_response
from labeling.selectors.projects import EXPORT_ROLES, MANAGER_ROLES, project_get_for_member
from labeling.storage import presigned_url, uses_bucket

EXPORT_PARAMETERS = [
    OpenApiParameter("format", str, enum=list(formats.CONTENT_TYPES), description="Default jsonl."),
    OpenApiParameter("consensus", str, enum=["majority", "dawid_skene"], description="Default: the run's."),
    OpenApiParameter(
        "split", str, description="e.g. train:80,dev:10,test:10 (stable, stratified by consensus)."
    ),
    OpenApiParameter("seed", int),
    OpenApiParameter("stratify_by", str, description="Also stratify by this metadata field."),
    OpenApiParameter("min_agreement", float),
    OpenApiParameter("min_confidence", float),
    OpenApiParameter("min_answers", int),
    OpenApiParameter("schema_version", int, description="Use the latest run on this schema version."),
    OpenApiParameter("run", int, description="Use this agreement run."),
    OpenApiParameter("slice", str, many=True, description="field:value, repeatable."),
    OpenApiParameter(
        "exclude",
        str,
        many=True,
        description="unresolved (no label), ties (the answers tie and nobody decided), borderline.",
    ),
    OpenApiParameter(
        "include",
        str,
        description="answers: each labeler's answer with labeler ids; quality: label_quality, the "
        "likelihood that the consensus is right (CROWDLAB; low = likely wrong); lacks_information: "
        "items a reviewer marked as lacking the information to decide (left out by default). "
        "Comma-separated.",
    ),
    OpenApiParameter("min_quality", float, description="Only items whose label_quality is at least this."),
]


def _params(query):
    try:
        return parse_export_params(query)
    except ExportParamError as exc:
        raise Invalid(str(exc), fields={exc.field_name: [str(exc)]}) from exc


class ProjectExportApi(APIView):
    @extend_schema(
        parameters=EXPORT_PARAMETERS,
        responses={(200, "application/octet-stream"): bytes},
        summary="Stream the dataset (managers and pipeline tokens)",
        description="One row per item with a label or an answer: `label` (what to train on) and "
        "`label_source` (resolved | gold | consensus), `resolved_by`/`resolved_at`, `consensus` (the "
        "answers' consensus), `is_tie`/`confidence` (the consensus's), `status` (review status), all "
        "on the current schema version. Decisions are read live; the consensus comes from the latest "
        "agreement run plus the answers since. Headers: X-Concord-Run (id), X-Concord-Run-Number, "
        "X-Concord-Since-Run (answers, decisions and schema changes newer than the run, all applied). "
        "With a read replica (DATABASE_REPLICA_URL): X-Concord-Read-From (replica | primary), "
        "X-Concord-Replica-Lag (seconds behind, 0.000 when caught up), X-Concord-Replica-Skipped "
        "(behind | unreachable | not_a_standby).",
    )
    def get(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=EXPORT_ROLES)
        params = _params(request.query_params)
        source = export_source_get()  # the replica when configured and fresh: exports.source
        ctx, stream = export_stream(project=project, params=params, using=source.alias)
        audit(
            project=project,
            actor=request.user,
            action="export",
            target=f"run {ctx.run.id}" if ctx.run else "no run",
            after=params.as_dict(),
        )
        response = StreamingHttpResponse(stream, content_type=formats.CONTENT_TYPES[params.format])
        response["Content-Disposition"] = (
            f'attachment; filename="{export_filename(project=project, ctx=ctx, params=params)}"'
        )
        freshness = run_freshness(project=project, run=ctx.run, using=source.alias)
        for name, value in (freshness_header(run=ctx.run, freshness=freshness) | source.headers()).items():
            response[name] = value
        return response


class SnapshotOut(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    run = serializers.IntegerField(source="run_id")
    schema_version = serializers.IntegerField(source="schema_version.number")
    content_hash = serializers.CharField()
    row_count = serializers.IntegerField()
    params = serializers.JSONField()
    files = serializers.JSONField()
    created_at = serializers.DateTimeField()


class SnapshotDetailOut(SnapshotOut):
    manifest = serializers.JSONField()


class ProjectSnapshotsApi(APIView):
    @extend_schema(responses=SnapshotOut(many=True), summary="Dataset snapshots of the project")
    def get(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=EXPORT_ROLES)
        snapshots = DatasetSnapshot.objects.filter(project=project).select_related("schema_version")
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(snapshots, request, view=self)
        return paginator.get_paginated_response(SnapshotOut(page, many=True).data)

    @extend_schema(
        request={"application/json": {"type": "object"}},
        parameters=EXPORT_PARAMETERS,
        responses={202: OpenApiTypes.OBJECT},
        summary="Freeze an export as an immutable snapshot (a job: 202 + Location)",
    )
    def post(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=MANAGER_ROLES)
        query = dict(request.data) if hasattr(request.data, "keys") else {}
        if not isinstance(request.data, dict):
            raise Invalid("Send the export parameters as a JSON object.")
        try:
            job = snapshot_request(project=project, requested_by=request.user, query=query)
        except ExportParamError as exc:
            raise Invalid(str(exc), fields={exc.field_name: [str(exc)]}) from exc
        return job_accepted_response(request, job)


def _snapshot_for(request, snapshot_id: int) -> DatasetSnapshot:
    snapshot = DatasetSnapshot.objects.select_related("schema_version").filter(pk=snapshot_id).first()
    if snapshot is None:
        raise NotFound("Project not found.")
    project_get_for_member(project_id=snapshot.project_id, user=request.user, roles=EXPORT_ROLES)
    return snapshot


class SnapshotDetailApi(APIView):
    @extend_schema(responses=SnapshotDetailOut, summary="A snapshot with its manifest")
    def get(self, request, snapshot_id: int):
        return Response(SnapshotDetailOut(_snapshot_for(request, snapshot_id)).data)


class SnapshotDownloadApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("split", str, description="Which file (default: the only one).")],
        responses={(200, "application/octet-stream"): bytes},
        summary="Download a snapshot file",
    )
    def get(self, request, snapshot_id: int):
        snapshot = _snapshot_for(request, snapshot_id)
        key = request.query_params.get("split") or ("all" if "all" in snapshot.files else None)
        entry = snapshot.files.get(key) if key else None
        if entry is None:
            raise Invalid(
                f"Choose a split: {', '.join(snapshot.files)}.", fields={"split": list(snapshot.files)}
            )
        fmt = snapshot.params.get("format", "jsonl")
        content_type = formats.CONTENT_TYPES.get(fmt, "application/octet-stream")
        if uses_bucket():  # the bucket serves the bytes; the link expires (AWS_QUERYSTRING_EXPIRE)
            url = presigned_url(entry["path"], content_type=content_type, attachment=entry["filename"])
            redirect = HttpResponseRedirect(url)
            redirect["X-Content-SHA256"] = entry["sha256"]
            redirect["Cache-Control"] = "private, no-store"
            return redirect
        response = FileResponse(
            default_storage.open(entry["path"], "rb"),
            as_attachment=True,
            filename=entry["filename"],
            content_type=content_type,
        )
        response["X-Content-SHA256"] = entry["sha256"]
        return response
