from django.conf import settings
from django.db import models


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_REVIEW = "in_review", "In review"
    RESOLVED = "resolved", "Resolved"
    LACKS_INFORMATION = "lacks_information", "x lacks the information to decide"


class Review(models.Model):
    """The review state of one item. ``version`` gives optimistic concurrency: a reviewer acts
    on the version they saw, and a stale one gets a 409 with the current state."""

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="reviews")
    item = models.OneToOneField("labeling.Item", on_delete=models.CASCADE, related_name="review")
    status = models.CharField(max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    final_value = models.JSONField(null=True, blank=True, help_text="The reviewer's answer (becomes gold).")
    final_version = models.ForeignKey(
        "labeling.LabelSchemaVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The schema version the final value was given under (mapped to the current one on read).",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    is_example = models.BooleanField(default=False, help_text="Shown as an example in the label definitions.")
    version = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["project", "status"], name="review_project_status"),
            models.Index(fields=["project", "updated_at"], name="review_project_updated"),
        ]

    def __str__(self) -> str:
        return f"review of item {self.item_id} ({self.status})"


class Comment(models.Model):
    item = models.ForeignKey("labeling.Item", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(help_text="Markdown; sanitized when shown.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on item {self.item_id}"


class SchemaChange(models.Model):
    """A change that published a new schema version, with the agreement it was based on."""

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="schema_changes")
    from_version = models.ForeignKey(
        "labeling.LabelSchemaVersion", on_delete=models.PROTECT, related_name="+"
    )
    to_version = models.OneToOneField(
        "labeling.LabelSchemaVersion", on_delete=models.PROTECT, related_name="change"
    )
    op = models.CharField(max_length=30)
    params = models.JSONField()
    note = models.TextField(help_text="Why (required).")
    before = models.JSONField(help_text="Agreement on the existing answers before the change.")
    after = models.JSONField(help_text="Agreement projected on the same answers after the change.")
    requeued_items = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.op} → v{self.to_version_id}"
