from django.conf import settings
from django.db import models


class JobKind(models.TextChoices):
    """Consistency's background job kinds (registered with core's job runner in
    ``consistency.apps``)."""

    EXPORT = "export", "Export"
    SNAPSHOT = "snapshot", "Dataset snapshot"


class DatasetSnapshot(models.Model):
    """An immutable export: files in storage with their hashes, and the lineage behind them.

    Written once by the snapshot job and never updated; the manifest describes it fully.
    """

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="snapshots")
    run = models.ForeignKey("consistency.AgreementRun", on_delete=models.PROTECT, related_name="snapshots")
    schema_version = models.ForeignKey(
        "labeling.LabelSchemaVersion", on_delete=models.PROTECT, related_name="+"
    )
    job = models.OneToOneField("core.Job", on_delete=models.PROTECT, related_name="snapshot")
    params = models.JSONField(help_text="The export parameters that produced it.")
    files = models.JSONField(help_text="Per split (or 'all'): storage path, sha256, rows, bytes.")
    content_hash = models.CharField(
        max_length=64, help_text="SHA-256 over the files' hashes, in split order."
    )
    row_count = models.PositiveIntegerField()
    manifest = models.JSONField(help_text="Everything above plus the lineage (schema versions and changes).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"snapshot {self.pk} of project {self.project_id}"
