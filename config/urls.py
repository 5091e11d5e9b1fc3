from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("core.api.urls")),
    path("api/", include("labeling.api.urls")),
    path("api/", include("consistency.api.urls")),
    # Probes, metrics, login, passwords and the account page.
    path("", include("core.urls")),
    path("", include("labeling.urls")),
    path("", include("consistency.urls")),
]
