from django.conf import settings
from django.db import models


class LabelerFit(models.Model):
    """What the adaptive overlap policy knows about a project's labelers: the latest
    Dawid–Skene fit (gold-calibrated where gold exists), refreshed on a worker.

    Matrices are stored as nested lists ``[true][given]`` in the order of ``classes``. The
    submit path reads this row and the estimates of an item's few labelers, never the answers
    of the whole project.
    """

    project = models.OneToOneField("labeling.Project", on_delete=models.CASCADE, related_name="labeler_fit")
    schema_version = models.ForeignKey(
        "labeling.LabelSchemaVersion",
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The version the fit read answers under; a newer version makes the fit stale.",
    )
    classes = models.JSONField(help_text="Class names, the order of priors and matrices.")
    priors = models.JSONField(help_text="P(true class), one per class.")
    typical_confusion = models.JSONField(
        help_text="The answer-weighted mean confusion matrix: used for labelers with few answers."
    )
    answers = models.PositiveIntegerField(help_text="Answers the fit read.")
    gold_items = models.PositiveIntegerField(default=0, help_text="Gold items that calibrated the fit.")
    fitted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"labeler fit of project {self.project_id} ({self.answers} answers)"


class LabelerEstimate(models.Model):
    """One labeler's estimated confusion matrix in a project's :class:`LabelerFit`."""

    fit = models.ForeignKey(LabelerFit, on_delete=models.CASCADE, related_name="estimates")
    labeler = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    confusion = models.JSONField(help_text="P(answer | true class) as [true][given].")
    answers = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["fit", "labeler"], name="labelerestimate_unique_fit_labeler")
        ]

    def __str__(self) -> str:
        return f"estimate of labeler {self.labeler_id} in fit {self.fit_id}"
