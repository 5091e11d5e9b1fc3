from django.urls import path

from labeling import views

urlpatterns = [
    path("", views.project_list, name="projects"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path(
        "projects/<int:project_id>/stats/refresh/", views.project_stats_refresh, name="project-stats-refresh"
    ),
]
