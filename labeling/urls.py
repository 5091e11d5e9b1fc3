from django.urls import path

from labeling import views, views_account, views_data, views_media, views_workspace

urlpatterns = [
    path("", views.project_list, name="projects"),
    path("account/", views_account.account, name="account"),
    path("account/token/", views_account.account_token_rotate, name="account-token-rotate"),
    path("account/token/revoke/", views_account.account_token_revoke, name="account-token-revoke"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path(
        "projects/<int:project_id>/stats/refresh/", views.project_stats_refresh, name="project-stats-refresh"
    ),
    path("projects/<int:project_id>/label/", views_workspace.workspace, name="workspace"),
    path("projects/<int:project_id>/data/", views_data.data_page, name="data"),
    path("items/<int:item_id>/media/<str:variant>/", views_media.item_media, name="item-media"),
]
