from django.apps import AppConfig


class ConsistencyConfig(AppConfig):
    name = "consistency"
    verbose_name = "Consistency"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at module level: services import models, which Django loads
        # only once the app registry is ready.
        from consistency.models import AgreementRun, JobKind
        from consistency.selectors.operations import operations_figures_latest
        from consistency.selectors.prelabels import prediction_suggestion
        from core.jobs.lifecycle import lifecycle_register
        from core.jobs.registry import jobs_register
        from labeling.models import Role
        from labeling.selectors.projects import job_readable_by
        from labeling.services.prelabels import prelabel_source_register
        from labeling.services.stats import stats_section_register

        # Pre-labels in the labeling workspace come from this app's model predictions.
        prelabel_source_register(prediction_suggestion)
        stats_section_register(name="operations", build=operations_figures_latest)
        jobs_register(
            kind=JobKind.SNAPSHOT,
            label=JobKind.SNAPSHOT.label,
            runner="consistency.services.exports.snapshot_create",
            can_read=job_readable_by(Role.MANAGER),
            queue="exports",
            soft_time_limit=1700,
            time_limit=1800,
        )
        # No worker runs "export" jobs (exports stream in the request); readable as before.
        jobs_register(
            kind=JobKind.EXPORT,
            label=JobKind.EXPORT.label,
            runner=None,
            can_read=job_readable_by(Role.MANAGER, Role.PIPELINE),
        )
        # Runs follow the job lifecycle: the reaper fails those whose worker vanished.
        lifecycle_register(model=AgreementRun, name="agreement_runs")
