from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """Who did what, when, with the state before and after (resolutions, schema changes,
    member changes, exports). Append-only."""

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=50)
    target = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=20, default="ok", help_text="ok, conflict or refused.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "labeling_auditevent"  # moved from labeling with its table
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="auditevent_project_time")]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id} at {self.created_at}"
