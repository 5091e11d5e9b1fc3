from django.urls import path

from consistency.api.exports import (
    ProjectExportApi,
    ProjectSnapshotsApi,
    SnapshotDetailApi,
    SnapshotDownloadApi,
)
from consistency.api.predictions import PredictionUploadApi
from consistency.api.runs import AgreementRunDetailApi, AgreementRunListCreateApi

urlpatterns = [
    path(
        "projects/<int:project_id>/agreement-runs/",
        AgreementRunListCreateApi.as_view(),
        name="api-agreement-runs",
    ),
    path("agreement-runs/<int:run_id>/", AgreementRunDetailApi.as_view(), name="api-agreement-run"),
    path("projects/<int:project_id>/predictions/", PredictionUploadApi.as_view(), name="api-predictions"),
    path("projects/<int:project_id>/export/", ProjectExportApi.as_view(), name="api-export"),
    path("projects/<int:project_id>/snapshots/", ProjectSnapshotsApi.as_view(), name="api-snapshots"),
    path("snapshots/<int:snapshot_id>/", SnapshotDetailApi.as_view(), name="api-snapshot"),
    path(
        "snapshots/<int:snapshot_id>/download/", SnapshotDownloadApi.as_view(), name="api-snapshot-download"
    ),
]
