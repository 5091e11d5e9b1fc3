"""Existing labels in over REST: CSV/JSONL rows or a Label Studio JSON export."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import MultiPartParser
from core.errors import Invalid
from core.http.uploads import upload_guard
from core.jobs.api import JobOut, job_accepted_response
from labeling.models import Role
from labeling.selectors.projects import project_get_for_member
from labeling.services.annotation_import import (
    annotations_import,
    annotations_import_start,
    annotations_runs_in_request,
)

IMPORT_DOC = """Import labels made elsewhere (managers only), in the multipart field `file`:

* CSV with the columns `external_id, labeler, value`, or JSONL / a JSON list of
  `{"external_id", "labeler", "value"}` for items already in the project. `value` is a class
  name, a JSON list of names (or `a|b`) for multi-class projects, a JSON list of
  `{x, y, w, h, class}` boxes in pixels, or a transcript.
* A Label Studio JSON export: its tasks become items (`external_id` = the task id, `data` =
  the task data, `meta` = metadata) with their annotations: `completed_by` becomes the labeler
  `ls-<email or id>`; results of type `choices`, `rating`, `rectanglelabels` (percent → pixels
  with `original_width` / `original_height`) and `textarea` become answers.

**One transaction per file.** Bad rows and unknown classes give a 400 listing each of them
(`error.fields.rows`, and the whole report in `error.report`); nothing is written. Class names
match exactly, or ignoring case when unambiguous (`classes_mapped`). Unknown external ids are
listed in `unknown_external_ids` and skipped; cancelled or empty annotations and unsupported
result types are counted in `ignored`. A labeler name that is the username of a member with a
labeling role gets the answer (`labelers_members`); every other name becomes an import-only
labeler of this project (`labelers_import_only`), stored as `import:<project id>:<name>`: never
an account (it cannot sign in, takes no username, and the answer is the same whether or not an
account with that name exists). Each answer is stored as a submitted assignment plus an
annotation with `source = "import"` under the current schema version; answers already
present for the same labeler and item are skipped, so re-importing changes nothing.

Files up to `CONCORD_IMPORT_INLINE_MAX_BYTES` (16 MiB) are imported in the request (201 with
the report); larger ones become a job (202 + `Location: /api/jobs/{id}/`).
"""


class AnnotationImportApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        responses={
            201: OpenApiTypes.OBJECT,
            202: OpenApiResponse(JobOut, description="Import job started (Location: /api/jobs/{id}/)"),
            400: OpenApiResponse(description="Unreadable file, bad rows or unknown classes; nothing written"),
            413: OpenApiResponse(description="Body over the upload limit"),
        },
        summary="Import existing labels (CSV/JSONL rows, or a Label Studio JSON export)",
        description=IMPORT_DOC,
    )
    def post(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
        upload_guard(request)
        upload = request.FILES.get("file")
        upload_guard(request)
        if upload is None:
            raise Invalid("Send the labels in the multipart field 'file'.", fields={"file": ["No file."]})
        if not annotations_runs_in_request(size=upload.size):
            job = annotations_import_start(project=project, upload=upload, requested_by=request.user)
            return job_accepted_response(request, job)
        report = annotations_import(project=project, source=upload.file, filename=upload.name)
        return Response(report, status=201)
