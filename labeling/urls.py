from django.urls import path

from labeling import (
    views,
    views_data,
    views_media,
    views_people,
    views_settings,
    views_workspace,
)

urlpatterns = [
    path("projects/new/", views_settings.project_new, name="project-new"),
    path("projects/markdown-preview/", views_settings.markdown_preview, name="markdown-preview"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path("projects/<int:project_id>/settings/", views_settings.project_settings, name="project-settings"),
    path("projects/<int:project_id>/people/", views_people.people_page, name="project-people"),
    path("projects/<int:project_id>/people/add/", views_people.people_add, name="people-add"),
    path("projects/<int:project_id>/people/role/", views_people.people_role, name="people-role"),
    path("projects/<int:project_id>/people/remove/", views_people.people_remove, name="people-remove"),
    path("projects/<int:project_id>/people/create/", views_people.people_create, name="people-create"),
    path("projects/<int:project_id>/people/token/", views_people.people_token, name="people-token"),
    path(
        "projects/<int:project_id>/stats/refresh/", views.project_stats_refresh, name="project-stats-refresh"
    ),
    path("projects/<int:project_id>/label/", views_workspace.workspace, name="workspace"),
    path("projects/<int:project_id>/data/", views_data.data_page, name="data"),
    path("items/<int:item_id>/media/<str:variant>/", views_media.item_media, name="item-media"),
]
