from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from consistency.services.predictions import predictions_upload
from core.api.parsers import MultiPartParser
from core.errors import Invalid
from labeling.selectors.projects import MANAGER_ROLES, project_get_for_member


class PredictionUploadApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "model_version": {"type": "string"},
                },
            }
        },
        responses={201: OpenApiTypes.OBJECT},
        summary="Upload a model version's predictions (CSV/JSONL: external_id, value[, score]); managers",
    )
    def post(self, request, project_id: int):
        project, _ = project_get_for_member(project_id=project_id, user=request.user, roles=MANAGER_ROLES)
        upload = request.FILES.get("file")
        version = str(request.data.get("model_version", "")).strip()
        if upload is None or not version:
            raise Invalid(
                "Send 'file' and 'model_version'.",
                fields={"file": ["Required."], "model_version": ["Required."]},
            )
        report = predictions_upload(
            project=project, content=upload.read(), model_version=version[:100], uploaded_by=request.user
        )
        return Response(report, status=201)
