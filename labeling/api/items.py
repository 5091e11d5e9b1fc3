"""Items in over REST: a JSON list or uploaded files; and a paged list for reviewers and managers."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import JSONParser, MultiPartParser
from core.errors import Invalid
from core.http.uploads import content_length, upload_guard
from core.jobs.api import JobOut, job_accepted_response
from labeling.models import Role
from labeling.selectors.items import item_list
from labeling.selectors.projects import REVIEW_ROLES, project_get_for_member
from labeling.services.items import (
    RecordFile,
    import_runs_in_request,
    items_import_records,
    items_import_start,
    record_file_kind,
)

IMPORT_DOC = """Import items (managers only; reviewers and labelers get 403, non-members 404).

**What to send**

* `application/json`: a list of `{external_id, data, metadata}` (record projects). `data` is
  the fields shown to labelers; `{"left": {...}, "right": {...}}` makes a record pair.
* `multipart/form-data`, field `file` (repeatable):
  * record projects: CSV (header row; `external_id` or `id` column; `left.*` / `right.*`
    columns make pairs), JSONL, Parquet, or a JSON list;
  * image / audio projects: JPEG, PNG, WebP / WAV, FLAC, OGG, MP3 files, zip archives of them,
    and optionally a metadata CSV (column `file` plus slice columns such as `device`; a zip may
    carry its own `metadata.csv`). Types are decided from the bytes, never the name.
* `metadata_columns` (form field or query parameter, comma-separated): record columns that
  are slices (device, region…) rather than fields shown to labelers.

**Where it runs.** Record imports up to `CONCORD_IMPORT_INLINE_MAX_BYTES` (16 MiB by default)
run in the request and answer **201** with the report. Larger record imports, and every media
upload, answer **202** with the job and `Location: /api/jobs/{id}/`; the job's `result` is the
same report (for media: `created`, `skipped_existing`, `rejected` with file names and reasons).

**All or nothing for records.** All record files of one request are one transaction: if any
row is bad, nothing is written and the **400** lists every bad row (`error.fields.rows`,
`"line 7: missing external_id"`; `error.report.errors` has file, line and reason). In a job,
the same list is the failed job's `error`. A file that cannot be parsed at all (wrong type,
no header, invalid UTF-8, broken or unsafe zip) is refused with a 400 before anything is
stored. Media files are each their own unit: valid files are kept, rejected ones listed.

**Idempotent.** An `external_id` already in the project is skipped and counted
(`skipped_existing`); rows without an id use the SHA-256 of their content, media the SHA-256
of their bytes. Retrying after a timeout creates no duplicates. Ids repeated inside one
import are reported in `duplicates_in_file`.

**Limits.** Bodies over `CONCORD_MAX_UPLOAD_BYTES` (multipart) or `DATA_UPLOAD_MAX_MEMORY_SIZE`
(JSON) get **413** before they are read. CSV cells that look like formulas are stored verbatim.
"""


class ItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    kind = serializers.CharField()
    # A field named like Serializer.data: DRF's metaclass moves declared fields off the class,
    # which the stubs can't express.
    data = serializers.JSONField()  # type: ignore[assignment]
    metadata = serializers.JSONField()
    quality = serializers.JSONField()
    target = serializers.IntegerField(help_text="k for this item.")
    is_gold = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class FileReportOut(serializers.Serializer):
    file = serializers.CharField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    skipped_existing = serializers.IntegerField(help_text="Rows whose external_id was already there.")
    skipped_existing_ids = serializers.ListField(child=serializers.CharField(), help_text="The first 100.")
    duplicates_in_file = serializers.ListField(child=serializers.CharField(), help_text="The first 100.")
    duplicates_in_file_count = serializers.IntegerField()
    ids_from_content = serializers.IntegerField(help_text="Rows without an id, keyed by content hash.")
    quality = serializers.JSONField(help_text="Per column: missing, distinct, min and max when numeric.")


class ImportReportOut(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    skipped_existing = serializers.IntegerField()
    duplicates_in_file_count = serializers.IntegerField()
    files = FileReportOut(many=True)


def _metadata_columns(request, *, form: bool) -> frozenset[str]:
    raw = request.query_params.get("metadata_columns")
    if raw is None and form:
        raw = request.data.get("metadata_columns")
    return frozenset(c.strip() for c in str(raw or "").split(",") if c.strip())


class ProjectItemsApi(APIView):
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(responses=ItemOut(many=True), summary="Items of the project (reviewers and managers)")
    def get(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=REVIEW_ROLES)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(item_list(project=project), request, view=self)
        return paginator.get_paginated_response(ItemOut(page, many=True).data)

    @extend_schema(
        description=IMPORT_DOC,
        request={
            "application/json": {"type": "array", "items": {"type": "object"}},
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "metadata_columns": {"type": "string"},
                },
            },
        },
        responses={
            201: ImportReportOut,
            202: OpenApiResponse(JobOut, description="Import job started (Location: /api/jobs/{id}/)"),
            400: OpenApiResponse(description="Bad rows (all listed) or an unreadable file; nothing written"),
            413: OpenApiResponse(description="Body over the upload limit"),
        },
        parameters=[
            OpenApiParameter("metadata_columns", str, description="Comma-separated metadata (slice) columns.")
        ],
        summary="Import items",
    )
    def post(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
        upload_guard(request)
        if request.content_type.startswith("application/json"):
            columns = _metadata_columns(request, form=False)
            if not import_runs_in_request(project=project, size=content_length(request)):
                job = items_import_start(
                    project=project, uploads=[], requested_by=request.user, body=request.body
                )
                return job_accepted_response(request, job)
            if not isinstance(request.data, list):
                raise Invalid(
                    "Send a JSON list of {external_id, data, metadata}.", fields={"items": ["Not a list."]}
                )
            files = [RecordFile("request body", "rows", request.data)]
            return Response(
                items_import_records(project=project, files=files, metadata_columns=columns), status=201
            )
        columns = _metadata_columns(request, form=True)
        uploads = request.FILES.getlist("file")
        upload_guard(request)
        if not uploads:
            raise Invalid(
                "Send a JSON list of items, or files in the multipart field 'file'.",
                fields={"file": ["No file."]},
            )
        if import_runs_in_request(project=project, size=sum(u.size for u in uploads)):
            files = [RecordFile(u.name, record_file_kind(u.name, u.file), u.file, u.size) for u in uploads]
            return Response(
                items_import_records(project=project, files=files, metadata_columns=columns), status=201
            )
        job = items_import_start(
            project=project, uploads=uploads, requested_by=request.user, metadata_columns=columns
        )
        return job_accepted_response(request, job)
