from django.contrib import admin

from consistency.models import AgreementRun, ItemResult


@admin.register(AgreementRun)
class AgreementRunAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "schema_version", "status", "trigger", "headline_alpha", "created_at"]
    list_filter = ["status", "trigger"]
    raw_id_fields = ["project", "schema_version", "requested_by"]


@admin.register(ItemResult)
class ItemResultAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "item", "consensus", "confidence", "n_answers", "disagreement"]
    raw_id_fields = ["run", "item"]
