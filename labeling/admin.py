from django.contrib import admin

from labeling.models import (
    Annotation,
    Assignment,
    Item,
    LabelClass,
    LabelSchemaVersion,
    Project,
    ProjectMembership,
)


class MembershipInline(admin.TabularInline):
    model = ProjectMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "data_type", "label_kind", "overlap", "created_by", "created_at"]
    list_filter = ["data_type", "label_kind"]
    search_fields = ["name"]
    inlines = [MembershipInline]
    raw_id_fields = ["created_by"]


@admin.register(ProjectMembership)
class ProjectMembershipAdmin(admin.ModelAdmin):
    list_display = ["project", "user", "role", "created_at"]
    list_filter = ["role"]
    raw_id_fields = ["project", "user"]


class LabelClassInline(admin.TabularInline):
    model = LabelClass
    extra = 0


@admin.register(LabelSchemaVersion)
class LabelSchemaVersionAdmin(admin.ModelAdmin):
    list_display = ["project", "number", "published_at", "created_by", "note"]
    raw_id_fields = ["project", "parent", "created_by"]
    inlines = [LabelClassInline]

    def get_readonly_fields(self, request, obj=None):
        # A published version is immutable: history must read the same forever.
        if obj is not None and obj.is_published:
            return [f.name for f in self.model._meta.fields]
        return []

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_published


@admin.register(LabelClass)
class LabelClassAdmin(admin.ModelAdmin):
    list_display = ["name", "schema_version", "position"]
    raw_id_fields = ["schema_version"]

    def has_change_permission(self, request, obj=None):
        return obj is None or not obj.schema_version.is_published

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.schema_version.is_published


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "external_id", "kind", "is_gold", "created_at"]
    list_filter = ["kind", "is_gold"]
    search_fields = ["external_id"]
    raw_id_fields = ["project"]
    list_select_related = ["project"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "item", "labeler", "status", "lease_expires_at"]
    list_filter = ["status"]
    raw_id_fields = ["project", "item", "labeler"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["id", "item", "labeler", "schema_version", "is_current", "time_spent_ms", "created_at"]
    list_filter = ["is_current", "source"]
    raw_id_fields = ["assignment", "item", "labeler", "schema_version", "supersedes"]
