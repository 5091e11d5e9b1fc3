from django.contrib import admin

from core.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # not subscriptable at runtime
    list_display = ["id", "kind", "project", "status", "progress", "attempts", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["project", "created_by"]
