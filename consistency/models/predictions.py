from django.conf import settings
from django.db import models


class Prediction(models.Model):
    """A model's answer for an item (shadow mode): compared with consensus and HLP, never
    counted as a labeler's answer and never shown to labelers."""

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="predictions")
    item = models.ForeignKey("labeling.Item", on_delete=models.CASCADE, related_name="predictions")
    model_version = models.CharField(max_length=100)
    value = models.JSONField()
    schema_version = models.ForeignKey(
        "labeling.LabelSchemaVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version the prediction was uploaded under; read through the mappings.",
    )
    score = models.FloatField(null=True, blank=True)
    probabilities = models.JSONField(
        null=True,
        blank=True,
        help_text="Class name → probability (sums to 1); feeds the likely-wrong ranking.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "model_version"], name="prediction_unique_item_model_version"
            )
        ]
        indexes = [models.Index(fields=["project", "model_version"], name="prediction_project_version")]

    def __str__(self) -> str:
        return f"{self.model_version} on item {self.item_id}"
