from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from labeling.models.schemas import LabelSchemaVersion

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class DataType(models.TextChoices):
    AUDIO = "audio", "Audio"
    IMAGE = "image", "Image"
    RECORD = "record", "Record"


class LabelKind(models.TextChoices):
    CLASSES = "classes", "One class per item"
    MULTI_CLASSES = "multi_classes", "Several classes per item"
    BOXES = "boxes", "Bounding boxes with a class"
    TRANSCRIPTION = "transcription", "Transcription"
    RATING = "rating", "Rating on an ordered scale"


class ConsensusMethod(models.TextChoices):
    MAJORITY = "majority", "Majority vote"
    DAWID_SKENE = "dawid_skene", "Dawid–Skene"


class OverlapPolicy(models.TextChoices):
    FIXED = "fixed", "Fixed: k answers per item"
    ADAPTIVE = "adaptive", "Adaptive: more answers where labelers disagree"


class Role(models.TextChoices):
    LABELER = "labeler", "Labeler"
    REVIEWER = "reviewer", "Reviewer"
    MANAGER = "manager", "Manager"
    PIPELINE = "pipeline", "Pipeline (reads exports and snapshots)"


# Who may reserve items and answer them. The pipeline role is a machine's read access
# (exports, snapshots): its answers would enter the agreement runs as a labeler's.
LABELING_ROLES = (Role.LABELER, Role.REVIEWER, Role.MANAGER)


class ProjectQuerySet(models.QuerySet["Project"]):
    def visible_to(self, user: "AbstractBaseUser | AnonymousUser") -> "ProjectQuerySet":
        """Projects the user is a member of; nothing for anonymous users."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class Project(models.Model):
    name = models.CharField(max_length=200)
    data_type = models.CharField(max_length=16, choices=DataType.choices, help_text="What is labeled.")
    label_kind = models.CharField(
        max_length=16, choices=LabelKind.choices, help_text="The shape of one labeler's answer."
    )
    overlap = models.PositiveSmallIntegerField(
        default=3, help_text="k: how many labelers answer each item, blind to each other."
    )
    consensus_method = models.CharField(
        max_length=16, choices=ConsensusMethod.choices, default=ConsensusMethod.MAJORITY
    )
    overlap_policy = models.CharField(
        max_length=16,
        choices=OverlapPolicy.choices,
        default=OverlapPolicy.FIXED,
        db_default=OverlapPolicy.FIXED,
        help_text="fixed: every item gets k (overlap) answers; adaptive: min_answers, then more while the "
        "leading class's posterior is under target_confidence, up to max_answers.",
    )
    min_answers = models.PositiveSmallIntegerField(
        default=2, db_default=2, help_text="Adaptive: answers every item gets before the policy may stop."
    )
    max_answers = models.PositiveSmallIntegerField(
        default=5, db_default=5, help_text="Adaptive: the most answers an item gets from the policy."
    )
    target_confidence = models.FloatField(
        default=0.99,
        db_default=0.99,
        help_text="Adaptive: an item stops once its leading class's posterior reaches this (0.5 to 1).",
    )
    lease_seconds = models.PositiveIntegerField(
        default=600, help_text="How long a reserved item stays with a labeler before returning to the pool."
    )
    auto_run_every = models.PositiveIntegerField(
        default=0,
        help_text="Start an agreement run when this many new answers arrived since the last one (0: off).",
    )
    alarms = models.JSONField(
        default=dict,
        blank=True,
        help_text="Operations alarm thresholds: agreement_drop, min_labeler_hlp, max_skip_rate (0 to 1).",
    )
    gold_rate = models.FloatField(
        default=0.0, help_text="Share of a labeler's stream drawn from gold items (0 to 1)."
    )
    prelabels = models.BooleanField(
        default=False,
        help_text="Show labelers a model's prediction as a pre-filled suggestion (accept or correct it).",
    )
    prelabel_holdout = models.FloatField(
        default=0.1,
        help_text="Share of items shown without the suggestion (0 to 1), to measure anchoring on the model.",
    )
    prelabel_model_version = models.CharField(
        max_length=100, blank=True, help_text="The model version suggested; blank: the latest uploaded."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_projects"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="ProjectMembership", related_name="projects"
    )

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(overlap__gte=1), name="project_overlap_at_least_1"),
            models.CheckConstraint(
                condition=Q(gold_rate__gte=0) & Q(gold_rate__lte=1), name="project_gold_rate_0_1"
            ),
            models.CheckConstraint(condition=Q(lease_seconds__gte=10), name="project_lease_at_least_10s"),
            models.CheckConstraint(
                condition=Q(min_answers__gte=1) & Q(max_answers__gte=F("min_answers")),
                name="project_answers_range",
            ),
            models.CheckConstraint(
                condition=Q(target_confidence__gt=0.5) & Q(target_confidence__lt=1),
                name="project_target_confidence_open_0_5_1",
            ),
            models.CheckConstraint(
                condition=Q(prelabel_holdout__gte=0) & Q(prelabel_holdout__lte=1),
                name="project_prelabel_holdout_0_1",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_adaptive(self) -> bool:
        return self.overlap_policy == OverlapPolicy.ADAPTIVE

    @property
    def initial_target(self) -> int:
        """The target a new item starts with: k under fixed, min_answers under adaptive."""
        return self.min_answers if self.is_adaptive else self.overlap

    @property
    def schema_version(self):
        """The latest published schema version (new annotations are made against it)."""
        return LabelSchemaVersion.objects.published(self).first()


class ProjectMembership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_project_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"
