from django.urls import path

from consistency import views

urlpatterns = [
    path("projects/<int:project_id>/agreement/", views.agreement_dashboard, name="agreement-dashboard"),
    path("projects/<int:project_id>/agreement/runs/", views.agreement_run_start, name="agreement-run-start"),
    path("projects/<int:project_id>/agreement/items/", views.agreement_items, name="agreement-items"),
    path("projects/<int:project_id>/labelers/", views.labelers_page, name="labelers"),
    path("projects/<int:project_id>/model/", views.model_page, name="model"),
]
