from django.urls import path

from consistency.views import (
    agreement,
    browse,
    classes,
    definitions,
    export,
    help,
    hlp,
    overview,
    prelabels,
    review,
)

urlpatterns = [
    path("", overview.project_list, name="projects"),
    path("help/agreement/", help.agreement_help, name="agreement-help"),
    path("projects/<int:project_id>/agreement/", agreement.agreement_dashboard, name="agreement-dashboard"),
    path(
        "projects/<int:project_id>/agreement/runs/", agreement.agreement_run_start, name="agreement-run-start"
    ),
    path("projects/<int:project_id>/review/", review.review_queue, name="agreement-items"),
    path("projects/<int:project_id>/review/<int:item_id>/", review.review_item, name="review-item"),
    path("projects/<int:project_id>/definitions/", definitions.definitions_page, name="definitions"),
    path("projects/<int:project_id>/labelers/", hlp.labelers_page, name="labelers"),
    path("projects/<int:project_id>/model/", hlp.model_page, name="model"),
    path(
        "projects/<int:project_id>/model/prelabels/",
        prelabels.prelabel_settings,
        name="prelabel-settings",
    ),
    path("projects/<int:project_id>/operations/", agreement.operations_page, name="operations"),
    path("projects/<int:project_id>/operations/alarms/", overview.alarms_update, name="alarms-update"),
    path("projects/<int:project_id>/items/", browse.items_page, name="items"),
    path("projects/<int:project_id>/export/", export.export_page, name="export"),
    path("projects/<int:project_id>/export/download/", export.export_download, name="export-download"),
    path("projects/<int:project_id>/export/snapshots/", export.snapshot_freeze, name="snapshot-freeze"),
    path(
        "projects/<int:project_id>/export/snapshots/<int:snapshot_id>/",
        export.snapshot_download,
        name="snapshot-download",
    ),
    path("projects/<int:project_id>/items/bulk/", browse.items_bulk, name="items-bulk"),
    path("projects/<int:project_id>/settings/classes/", classes.class_details, name="class-details"),
]
