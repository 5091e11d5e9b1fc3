from django.db import models
from django.db.models import Q

from labeling.models.projects import DataType


class ItemQuerySet(models.QuerySet):
    def for_project(self, project) -> "ItemQuerySet":
        return self.filter(project=project)


class Item(models.Model):
    """One unit to label: an audio clip, an image, a record or a record pair."""

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=16, choices=DataType.choices)
    external_id = models.CharField(
        max_length=255,
        help_text="The client's id for this item; unique per project, makes imports idempotent.",
    )
    data = models.JSONField(
        default=dict, blank=True, help_text="Record fields, or {'left': {...}, 'right': {...}} for a pair."
    )
    media = models.FileField(
        upload_to="items/%Y/%m/", blank=True, max_length=300, help_text="Audio or image, stored by path."
    )
    content_hash = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the media bytes.")
    original_filename = models.CharField(
        max_length=255,
        blank=True,
        help_text="The uploaded file's name, sanitized; metadata only, never a path.",
    )
    thumbnail = models.FileField(upload_to="thumbs/%Y/%m/", blank=True, max_length=300)
    waveform = models.FileField(
        upload_to="waveforms/%Y/%m/",
        blank=True,
        max_length=300,
        help_text="Precomputed peaks (JSON) for audio.",
    )
    quality = models.JSONField(
        default=dict,
        blank=True,
        help_text="Input-quality metrics computed at import (size, brightness, silence…).",
    )
    metadata = models.JSONField(
        default=dict, blank=True, help_text="Slice fields (device, accent, factory…) for every metric."
    )
    overlap = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Labelers wanted for this item; null means the project's k."
    )
    is_gold = models.BooleanField(
        default=False, help_text="Has a known answer (imported or set by a reviewer)."
    )
    gold_value = models.JSONField(null=True, blank=True, help_text="The known answer for gold items.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        ordering = ["project", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"], name="item_external_id_unique_per_project"
            ),
            models.CheckConstraint(
                condition=Q(overlap__isnull=True) | Q(overlap__gte=1), name="item_overlap_at_least_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}/{self.external_id}"
