from django.conf import settings
from django.db import models
from django.db.models import Q


class AssignmentStatus(models.TextChoices):
    RESERVED = "reserved", "Reserved (lease running)"
    SUBMITTED = "submitted", "Answered"
    SKIPPED = "skipped", "Skipped"
    EXPIRED = "expired", "Lease expired"


class Assignment(models.Model):
    """A labeler × item pair: at most one per labeler and item, ever."""

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="assignments")
    item = models.ForeignKey("labeling.Item", on_delete=models.CASCADE, related_name="assignments")
    labeler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    status = models.CharField(
        max_length=16, choices=AssignmentStatus.choices, default=AssignmentStatus.RESERVED
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "labeler"], name="assignment_unique_item_labeler"),
            models.UniqueConstraint(
                fields=["project", "labeler"],
                condition=Q(status="reserved"),
                name="assignment_one_reservation_per_labeler",
            ),
        ]
        indexes = [models.Index(fields=["project", "labeler", "status"], name="assignment_labeler_status")]

    def __str__(self) -> str:
        return f"item {self.item_id} → user {self.labeler_id} ({self.status})"


class Annotation(models.Model):
    """A labeler's answer for an item under one schema version.

    A re-submit creates a new row and clears ``is_current`` on the old one, so the
    history is kept and exactly one current annotation exists per assignment.
    """

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="annotations")
    item = models.ForeignKey("labeling.Item", on_delete=models.CASCADE, related_name="annotations")
    labeler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations"
    )
    schema_version = models.ForeignKey(
        "labeling.LabelSchemaVersion", on_delete=models.PROTECT, related_name="annotations"
    )
    value = models.JSONField(
        null=True, blank=True, help_text="Class name, list of names, list of boxes or a transcript."
    )
    skip_reason = models.CharField(
        max_length=200, blank=True, help_text="Set when the labeler skipped; the value is then null."
    )
    comment = models.TextField(blank=True)
    time_spent_ms = models.PositiveIntegerField(
        default=0, help_text="Time on the item, measured in the browser."
    )
    is_current = models.BooleanField(default=True)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="superseded_by"
    )
    idempotency_key = models.CharField(
        max_length=100,
        blank=True,
        help_text="Client-sent Idempotency-Key; a retry with the same key is a no-op.",
    )
    source = models.CharField(
        max_length=32, default="labeler", help_text="labeler, or import (labels brought from elsewhere)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(is_current=True),
                name="annotation_one_current_per_assignment",
            ),
            # Ten parallel retries with one key must store one answer: the database decides.
            models.UniqueConstraint(
                fields=["labeler", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="annotation_unique_labeler_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["item", "is_current"], name="annotation_item_current"),
            # "Answers since the latest run" and the export's live part read the newest answers.
            models.Index(fields=["created_at"], name="annotation_created_at"),
        ]

    def __str__(self) -> str:
        return f"annotation {self.pk} on item {self.item_id}"


class PrelabelExposure(models.Model):
    """What a labeler was shown on an assignment when pre-labels were on: the model's suggestion,
    or nothing (the held-out share). Written once, when the item is first shown; compared with
    the answer to measure how much labelers anchor on the model."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="prelabel")
    shown = models.BooleanField(help_text="False: held out, the item was shown without the suggestion.")
    model_version = models.CharField(max_length=100)
    suggestion = models.JSONField(help_text="The model's answer, whether shown or held out.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{'shown' if self.shown else 'held out'} on assignment {self.assignment_id}"
