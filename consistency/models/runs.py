from django.conf import settings
from django.db import models
from django.db.models import Q

from core.jobs.lifecycle import JobStatus, Lifecycle

# Runs follow the one lifecycle of background work (core.jobs.lifecycle): the same states.
RunStatus = JobStatus


class RunTrigger(models.TextChoices):
    MANUAL = "manual", "Started by a user"
    AUTO = "auto", "Enough new annotations arrived"
    SCHEMA_CHANGE = "schema_change", "A schema change was applied"


class AgreementRunManager(models.Manager):
    def create(self, **kwargs):
        """Runs are numbered #1, #2, … within their project. Two runs of a project are never
        created at once (at most one is in flight), and the unique constraint catches a race."""
        if kwargs.get("number") is None:
            project_id = kwargs.get("project_id") or kwargs["project"].pk
            last = self.filter(project_id=project_id).aggregate(n=models.Max("number"))["n"]
            kwargs["number"] = (last or 0) + 1
        return super().create(**kwargs)


class AgreementRun(Lifecycle):
    """One agreement computation over a project, pinned to a schema version.

    Its parameters and results are stored with it, so history never reads differently
    later. Results become visible all at once: readers only look at SUCCEEDED runs.
    """

    project = models.ForeignKey("labeling.Project", on_delete=models.CASCADE, related_name="agreement_runs")
    number = models.PositiveIntegerField(help_text="#1, #2, … within the project (the id is global).")
    schema_version = models.ForeignKey(
        "labeling.LabelSchemaVersion",
        on_delete=models.PROTECT,
        related_name="agreement_runs",
        help_text="Answers given under older versions are mapped to this one before measuring.",
    )
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices, default=RunTrigger.MANUAL)
    params = models.JSONField(
        default=dict, blank=True, help_text="Level, consensus method, bootstrap size, seed…"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    report = models.JSONField(null=True, blank=True, help_text="Every figure of the run (see the API docs).")
    headline_alpha = models.FloatField(null=True, blank=True)
    annotation_count = models.PositiveIntegerField(default=0, help_text="Current answers read by the run.")
    results_pruned_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its per-item results were removed by the retention rule "
        "(CONCORD_RUN_RESULTS_KEEP); its report stays.",
    )
    inputs_digest = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="Digest of everything the run measured and the code that measured it "
        "(services.measure.inputs); empty for runs from before it was kept.",
    )
    results_digest = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="Digest of what its per-item results read (its inputs but gold, for classes).",
    )
    results_run = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="+",
        help_text="The earlier run whose per-item results this run shares: what they read was "
        "equal (a run after review decisions only). Empty: results of its own.",
    )

    objects = AgreementRunManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="agreementrun_unique_number"),
            # Never more than one run in flight per project.
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status__in=["pending", "running"]),
                name="agreementrun_one_active_per_project",
            ),
        ]
        indexes = [
            models.Index(fields=["project", "status", "-created_at"], name="agreementrun_project_status")
        ]

    def __str__(self) -> str:
        return f"run #{self.number} of project {self.project_id} ({self.status})"

    @property
    def results_id(self) -> int:
        """The run whose partition holds this run's per-item results (readers filter
        ``ItemResult.run_id`` by it): its own id, or the run it shares them with."""
        return self.results_run_id or self.id

    @property
    def results_pruned(self) -> bool:
        return self.results_pruned_at is not None


class ItemResultQuerySet(models.QuerySet["ItemResult"]):
    def of_run(self, run: AgreementRun) -> "ItemResultQuerySet":
        """The run's per-item results: stored under its own id, or under the run it shares them
        with (``AgreementRun.results_run``). Read a run's results through this, never by
        ``run=``: a run that shares has no rows of its own."""
        return self.filter(run_id=run.results_id)


class ItemResult(models.Model):
    """Per item and run: consensus, its confidence, and how much the answers disagree."""

    # On PostgreSQL the table is partitioned by run (migration 0008): a run's rows are loaded
    # into a table of their own, indexed once and attached. Per-row foreign-key checks cost as
    # much as the load itself at 1M rows, so the references are kept by Django (on_delete runs
    # in the ORM either way), not by the database.
    run = models.ForeignKey(
        AgreementRun,
        on_delete=models.CASCADE,
        related_name="item_results",
        db_constraint=False,
        db_index=False,  # the queue-order and label-quality indexes start with run
    )
    item = models.ForeignKey(
        "labeling.Item",
        on_delete=models.CASCADE,
        related_name="results",
        db_constraint=False,
        db_index=False,  # itemresult_unique_item_run starts with item
    )
    n_answers = models.PositiveSmallIntegerField(help_text="Non-skipped current answers.")
    n_skipped = models.PositiveSmallIntegerField(default=0)
    consensus = models.JSONField(null=True, blank=True, help_text="Null when there is no consensus (a tie).")
    method = models.CharField(max_length=16, help_text="majority, dawid_skene or gold.")
    by_method = models.JSONField(
        default=dict,
        blank=True,
        help_text='Every method\'s answer: {"majority": {"value", "confidence"}, ...}.',
    )
    confidence = models.FloatField(
        null=True, blank=True, help_text="Vote share or posterior of the consensus."
    )
    agreement = models.FloatField(
        null=True, blank=True, help_text="Share of agreeing answer pairs on this item (1 = unanimous)."
    )
    disagreement = models.FloatField(
        default=0, help_text="Disagreement score used to rank the review queue (see docs)."
    )
    is_tie = models.BooleanField(default=False)
    label_quality = models.FloatField(
        null=True,
        blank=True,
        help_text="Likelihood that the consensus is right (CROWDLAB: answers weighted by labeler quality, "
        "plus model probabilities when uploaded); low = likely wrong. Null without a consensus. "
        "Gold items are scored too; readers show a decided item's as 1.0 (selectors.labels).",
    )
    first_class = models.CharField(
        max_length=100, blank=True, help_text="The most given class (categorical)."
    )
    second_class = models.CharField(
        max_length=100, blank=True, help_text="The second most given class; with first_class, the split."
    )

    objects = ItemResultQuerySet.as_manager()

    class Meta:
        # Every run builds these on its own 1M rows (publish.py copies them from here): each one
        # is seconds of the run. Item first in the unique constraint serves lookups by item
        # too (one index fewer); the disagreement and class-pair indexes hold only the rows
        # their queries ask for (disagreeing items; items whose answers split).
        constraints = [models.UniqueConstraint(fields=["item", "run"], name="itemresult_unique_item_run")]
        indexes = [
            models.Index(
                fields=["run", "-disagreement"],
                name="itemresult_run_disagreement",
                condition=models.Q(disagreement__gt=0),
            ),
            # The review queue's order (ties first, most disagreeing next): its first page is read
            # from here instead of sorting every result of the run (4 s at 1M items, 5 s at 2M).
            models.Index(
                fields=["run", "-is_tie", "-disagreement", "item"], name="itemresult_run_queue_order"
            ),
            models.Index(
                fields=["run", "first_class", "second_class"],
                name="itemresult_run_class_pair",
                condition=~models.Q(second_class=""),
            ),
            models.Index(fields=["run", "label_quality"], name="itemresult_run_label_quality"),
        ]

    def __str__(self) -> str:
        return f"item {self.item_id} in run {self.run_id}"


class RunStrataCounts(models.Model):
    """A finished run's listed items per label (its consensus by ``method``) and per block of
    ``block`` item ids (``exports.strata``): kept with the run, so that the export preview and
    the split pages of a process without Redis (or after its keys expired) do not count a
    million results again (3.8 s at 1M items). A run's results do not change once it finished;
    the row goes with the run."""

    run = models.ForeignKey(AgreementRun, on_delete=models.CASCADE, related_name="strata_counts")
    method = models.CharField(max_length=16)
    block = models.PositiveIntegerField(help_text="Item ids per block.")
    counts = models.JSONField(
        help_text="[[label as jsonb text or null, [block numbers], [running totals]], ...]"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "method", "block"], name="runstratacounts_unique")
        ]

    def __str__(self) -> str:
        return f"run {self.run_id} strata counts ({self.method}, blocks of {self.block})"
