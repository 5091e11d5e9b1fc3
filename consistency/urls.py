from django.urls import path

from consistency import (
    views,
    views_browse,
    views_classes,
    views_export,
    views_help,
    views_overview,
    views_prelabels,
)

urlpatterns = [
    path("", views_overview.project_list, name="projects"),
    path("help/agreement/", views_help.agreement_help, name="agreement-help"),
    path("projects/<int:project_id>/agreement/", views.agreement_dashboard, name="agreement-dashboard"),
    path("projects/<int:project_id>/agreement/runs/", views.agreement_run_start, name="agreement-run-start"),
    path("projects/<int:project_id>/review/", views.review_queue, name="agreement-items"),
    path("projects/<int:project_id>/review/<int:item_id>/", views.review_item, name="review-item"),
    path("projects/<int:project_id>/definitions/", views.definitions_page, name="definitions"),
    path("projects/<int:project_id>/labelers/", views.labelers_page, name="labelers"),
    path("projects/<int:project_id>/model/", views.model_page, name="model"),
    path(
        "projects/<int:project_id>/model/prelabels/",
        views_prelabels.prelabel_settings,
        name="prelabel-settings",
    ),
    path("projects/<int:project_id>/operations/", views.operations_page, name="operations"),
    path("projects/<int:project_id>/operations/alarms/", views_overview.alarms_update, name="alarms-update"),
    path("projects/<int:project_id>/items/", views_browse.items_page, name="items"),
    path("projects/<int:project_id>/export/", views_export.export_page, name="export"),
    path("projects/<int:project_id>/export/download/", views_export.export_download, name="export-download"),
    path("projects/<int:project_id>/export/snapshots/", views_export.snapshot_freeze, name="snapshot-freeze"),
    path(
        "projects/<int:project_id>/export/snapshots/<int:snapshot_id>/",
        views_export.snapshot_download,
        name="snapshot-download",
    ),
    path("projects/<int:project_id>/items/bulk/", views_browse.items_bulk, name="items-bulk"),
    path("projects/<int:project_id>/settings/classes/", views_classes.class_details, name="class-details"),
]
