from django.urls import path

from labeling.api.annotation_import import AnnotationImportApi
from labeling.api.items import ProjectItemsApi
from labeling.api.labeling import AnnotationSubmitApi, LabelerProgressApi, MyAnswerApi, NextItemApi
from labeling.api.pool import ItemGoldApi, ItemsOverlapApi
from labeling.api.projects import (
    ProjectDetailApi,
    ProjectListCreateApi,
    ProjectMembersApi,
    ProjectStatsRefreshApi,
)

urlpatterns = [
    path("projects/", ProjectListCreateApi.as_view(), name="api-projects"),
    path("projects/<int:project_id>/", ProjectDetailApi.as_view(), name="api-project"),
    path("projects/<int:project_id>/members/", ProjectMembersApi.as_view(), name="api-project-members"),
    path(
        "projects/<int:project_id>/stats/refresh/", ProjectStatsRefreshApi.as_view(), name="api-project-stats"
    ),
    path("projects/<int:project_id>/next/", NextItemApi.as_view(), name="api-next-item"),
    path("projects/<int:project_id>/progress/", LabelerProgressApi.as_view(), name="api-my-progress"),
    path("items/<int:item_id>/annotations/", AnnotationSubmitApi.as_view(), name="api-item-annotations"),
    path("items/<int:item_id>/my-answer/", MyAnswerApi.as_view(), name="api-my-answer"),
    path("projects/<int:project_id>/items/", ProjectItemsApi.as_view(), name="api-project-items"),
    path(
        "projects/<int:project_id>/annotations/import/",
        AnnotationImportApi.as_view(),
        name="api-annotation-import",
    ),
    path("projects/<int:project_id>/items/overlap/", ItemsOverlapApi.as_view(), name="api-items-overlap"),
    path("projects/<int:project_id>/items/<int:item_id>/gold/", ItemGoldApi.as_view(), name="api-item-gold"),
]
