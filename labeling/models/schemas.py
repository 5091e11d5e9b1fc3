from django.conf import settings
from django.db import models
from django.db.models import Q


class LabelSchemaVersionQuerySet(models.QuerySet):
    def published(self, project) -> "LabelSchemaVersionQuerySet":
        """The published versions of ``project`` (a Project, its id or an ``OuterRef``), newest
        first: ``.first()`` is the current version. The one spelling of that query (the
        selector ``schema_version_latest`` and the project's property read it)."""
        return self.filter(project=project, published_at__isnull=False).order_by("-number")


class LabelSchemaVersion(models.Model):
    """One version of a project's label schema: classes and their definitions.

    Once ``published_at`` is set the version and its classes never change; a merge,
    a new class or new instructions publish a new version whose ``mapping`` says how
    answers given under the parent version read under this one.
    """

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="schema_versions")
    number = models.PositiveIntegerField(help_text="1, 2, 3… per project.")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    instructions = models.TextField(blank=True, help_text="Label definitions shown to labelers (markdown).")
    mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text="Old class name → new class name (or null when answers must be given again).",
    )
    transcript_rules = models.JSONField(
        default=list, blank=True, help_text="Ordered transcript standardization rules for this version."
    )
    note = models.TextField(blank=True, help_text="Why this version exists.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = LabelSchemaVersionQuerySet.as_manager()

    class Meta:
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="schemaversion_unique_number"),
            models.CheckConstraint(condition=Q(number__gte=1), name="schemaversion_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class LabelClass(models.Model):
    schema_version = models.ForeignKey(LabelSchemaVersion, on_delete=models.CASCADE, related_name="classes")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, help_text="What belongs in this class, with examples.")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order on screen and on rating scales.")
    color = models.CharField(max_length=7, default="#4c6ef5", help_text="Hex colour for boxes and chips.")
    hotkey = models.CharField(
        max_length=1,
        blank=True,
        default="",
        db_default="",
        help_text="The key that picks this class in the workspace; blank: the next free digit.",
    )

    class Meta:
        ordering = ["schema_version", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schema_version", "name"], name="labelclass_name_unique_per_version"
            ),
        ]

    def __str__(self) -> str:
        return self.name
