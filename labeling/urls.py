from django.urls import path

from labeling.views import data, media, people, projects, settings, workspace

urlpatterns = [
    path("projects/new/", settings.project_new, name="project-new"),
    path("projects/markdown-preview/", settings.markdown_preview, name="markdown-preview"),
    path("projects/<int:project_id>/", projects.project_detail, name="project-detail"),
    path("projects/<int:project_id>/settings/", settings.project_settings, name="project-settings"),
    path("projects/<int:project_id>/people/", people.people_page, name="project-people"),
    path("projects/<int:project_id>/people/add/", people.people_add, name="people-add"),
    path("projects/<int:project_id>/people/role/", people.people_role, name="people-role"),
    path("projects/<int:project_id>/people/remove/", people.people_remove, name="people-remove"),
    path("projects/<int:project_id>/people/create/", people.people_create, name="people-create"),
    path("projects/<int:project_id>/people/token/", people.people_token, name="people-token"),
    path(
        "projects/<int:project_id>/stats/refresh/",
        projects.project_stats_refresh,
        name="project-stats-refresh",
    ),
    path("projects/<int:project_id>/label/", workspace.workspace, name="workspace"),
    path("projects/<int:project_id>/data/", data.data_page, name="data"),
    path("items/<int:item_id>/media/<str:variant>/", media.item_media, name="item-media"),
]
