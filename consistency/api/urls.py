from django.urls import path

from consistency.api.exports import (
    ProjectExportApi,
    ProjectSnapshotsApi,
    SnapshotDetailApi,
    SnapshotDownloadApi,
)
from consistency.api.predictions import PredictionUploadApi
from consistency.api.reviews import DisagreementQueueApi, ItemCommentsApi, ItemReviewApi
from consistency.api.runs import AgreementRunDetailApi, AgreementRunListCreateApi
from consistency.api.schema_changes import AuditLogApi, SchemaChangeApi

urlpatterns = [
    path(
        "projects/<int:project_id>/agreement-runs/",
        AgreementRunListCreateApi.as_view(),
        name="api-agreement-runs",
    ),
    path("agreement-runs/<int:run_id>/", AgreementRunDetailApi.as_view(), name="api-agreement-run"),
    path("projects/<int:project_id>/predictions/", PredictionUploadApi.as_view(), name="api-predictions"),
    path(
        "projects/<int:project_id>/disagreements/", DisagreementQueueApi.as_view(), name="api-disagreements"
    ),
    path("items/<int:item_id>/review/", ItemReviewApi.as_view(), name="api-item-review"),
    path("items/<int:item_id>/comments/", ItemCommentsApi.as_view(), name="api-item-comments"),
    path("projects/<int:project_id>/schema-changes/", SchemaChangeApi.as_view(), name="api-schema-changes"),
    path("projects/<int:project_id>/audit/", AuditLogApi.as_view(), name="api-audit"),
    path("projects/<int:project_id>/export/", ProjectExportApi.as_view(), name="api-export"),
    path("projects/<int:project_id>/snapshots/", ProjectSnapshotsApi.as_view(), name="api-snapshots"),
    path("snapshots/<int:snapshot_id>/", SnapshotDetailApi.as_view(), name="api-snapshot"),
    path(
        "snapshots/<int:snapshot_id>/download/", SnapshotDownloadApi.as_view(), name="api-snapshot-download"
    ),
]
