from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.errors import ApplicationError, Invalid
from labeling.models import Role
from labeling.selectors.projects import project_get_for_member
from labeling.services.annotation_import import annotations_import


class AnnotationImportApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        responses={201: OpenApiTypes.OBJECT},
        summary="Import existing labels (CSV/JSONL rows, or a Label Studio JSON export)",
        description=(
            "One transaction per file: unknown classes or bad rows → 400 listing them, nothing written. "
            "Unknown external ids are reported and skipped; unknown labelers become inactive accounts; "
            "a Label Studio export's tasks become items (external_id = task id). Re-importing is a no-op."
        ),
    )
    def post(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=(Role.MANAGER,))
        upload = request.FILES.get("file")
        if upload is None:
            raise Invalid("Send the labels in the multipart field 'file'.", fields={"file": ["No file."]})
        if upload.size > settings.CONCORD_MAX_UPLOAD_BYTES:
            raise ApplicationError("The file is too large.", code="too_large").with_status(413)
        report = annotations_import(project=project, content=upload.read(), filename=upload.name)
        return Response(report, status=201)
