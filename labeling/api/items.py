"""Items in over REST: a JSON list or uploaded files; and a paged list for reviewers and managers."""

import io

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.api.jobs import job_accepted_response
from labeling.errors import ApplicationError, Invalid
from labeling.models import DataType, Item, Role
from labeling.selectors.projects import REVIEW_ROLES, project_get_for_member
from labeling.services.items import items_import_media_request, items_import_records, record_kind

IMPORT_DOC = """Import items (managers).

* **JSON body**: a list of `{external_id, data, metadata}` (record projects); `data` may be
  `{"left": {...}, "right": {...}}` for record pairs.
* **multipart `file`** (repeatable): CSV, JSONL, Parquet or a JSON list for record projects;
  images (JPEG, PNG, WebP), audio (WAV, FLAC, OGG, MP3) or zip archives of them (with an optional
  `metadata.csv` keyed by `file`) for media projects. Optional form field `metadata_columns`
  (comma-separated) names record columns that are slices, not fields shown to labelers.

Record files are imported in the request and are **all or nothing**: one bad row and nothing
is written; the 400 lists every bad row with its line and reason. Media are imported by a
background **job** (202 + `Location: /api/jobs/{id}/`); each media file is its own unit, so
valid files are kept and each rejected one is listed with its reason. Existing `external_id`s
(media without one use their SHA-256) are skipped and counted, so a retry creates no duplicates.
"""


class ItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    kind = serializers.CharField()
    data = serializers.JSONField()
    metadata = serializers.JSONField()
    quality = serializers.JSONField()
    target = serializers.IntegerField(help_text="k for this item.")
    is_gold = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ProjectItemsApi(APIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(responses=ItemOut(many=True), summary="Items of the project (reviewers and managers)")
    def get(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
        items = (
            Item.objects.filter(project=project)
            .order_by("id")
            .only(
                "id", "external_id", "kind", "data", "metadata", "quality", "target", "is_gold", "created_at"
            )
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(items, request, view=self)
        return paginator.get_paginated_response(ItemOut(page, many=True).data)

    @extend_schema(
        description=IMPORT_DOC,
        request={
            "application/json": {"type": "array", "items": {"type": "object"}},
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            },
        },
        responses={
            201: OpenApiResponse(description="Records imported: counts and quality summary"),
            202: OpenApiResponse(description="Media import job started"),
        },
        parameters=[
            OpenApiParameter("metadata_columns", str, description="Comma-separated metadata columns.")
        ],
        summary="Import items",
    )
    def post(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
        form_columns = request.data.get("metadata_columns", "") if hasattr(request.data, "get") else ""
        raw_columns = request.query_params.get("metadata_columns") or form_columns
        metadata_columns = {c.strip() for c in str(raw_columns or "").split(",") if c.strip()}
        if isinstance(request.data, list):
            return Response(
                items_import_records(
                    project=project, source=request.data, kind="rows", metadata_columns=metadata_columns
                ),
                status=201,
            )
        uploads = request.FILES.getlist("file")
        if not uploads:
            raise Invalid(
                "Send a JSON list of items, or files in the multipart field 'file'.",
                fields={"file": ["No file."]},
            )
        too_big = [u.name for u in uploads if u.size > settings.CONCORD_MAX_UPLOAD_BYTES]
        if too_big:
            raise ApplicationError(
                f"Files over {settings.CONCORD_MAX_UPLOAD_BYTES // 1024**2} MB are refused: "
                f"{', '.join(too_big)}.",
                code="too_large",
            ).with_status(413)
        if project.data_type != DataType.RECORD:
            job = items_import_media_request(project=project, uploads=uploads, requested_by=request.user)
            return job_accepted_response(request, job)
        reports = []
        for upload in uploads:
            head = upload.read(16)
            upload.seek(0)
            kind = record_kind(upload.name, head)
            if kind is None:
                raise Invalid(
                    f"{upload.name}: not a CSV, JSONL, Parquet or JSON file.", fields={"file": [upload.name]}
                )
            source = io.BytesIO(upload.read()) if kind == "parquet" else upload.file
            report = items_import_records(
                project=project, source=source, kind=kind, metadata_columns=metadata_columns
            )
            reports.append({"file": upload.name, **report})
        total = {key: sum(r[key] for r in reports) for key in ("created", "skipped_existing", "rows")}
        return Response({**total, "files": reports}, status=201)
