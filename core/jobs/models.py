from django.conf import settings
from django.db import models
from django.db.models import Q

from core.jobs.lifecycle import JobStatus, Lifecycle
from core.jobs.registry import job_kind_label

__all__ = ["Job", "JobStatus"]


class Job(Lifecycle):
    """A background job run by a Celery worker; its state is what `GET /api/jobs/{id}/` shows.

    Its kinds are registered by the apps that run them (:mod:`core.jobs.registry`); the table
    is still ``labeling_job`` (the model moved here from ``labeling`` without touching it).
    """

    kind = models.CharField(max_length=32, help_text="Registered by the app that runs it.")
    project = models.ForeignKey(
        "labeling.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "labeling_job"  # moved from labeling with its table
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="job_progress_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    def get_kind_display(self) -> str:
        """The kind's label as its app registered it (the kind itself if none did)."""
        return job_kind_label(self.kind)
