from django.urls import path

from core.accounts.api import MeApi, MeTokenApi, UserCreateApi
from core.jobs.api import JobDetailApi

urlpatterns = [
    path("users/", UserCreateApi.as_view(), name="api-users"),
    path("me/", MeApi.as_view(), name="api-me"),
    path("me/token/", MeTokenApi.as_view(), name="api-me-token"),
    path("jobs/<int:job_id>/", JobDetailApi.as_view(), name="api-job"),
]
