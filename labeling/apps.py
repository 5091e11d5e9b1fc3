from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "labeling"
    verbose_name = "Labeling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at module level: services import models, which Django loads
        # only once the app registry is ready.
        from core.accounts.projects import account_projects_register
        from core.http.security import csp_origin_register
        from core.jobs.registry import jobs_register
        from labeling.models import JobKind, Role
        from labeling.selectors.projects import account_projects, job_readable_by
        from labeling.storage import media_origin

        jobs_register(
            kind=JobKind.PROJECT_STATS,
            label=JobKind.PROJECT_STATS.label,
            runner="labeling.services.stats.project_stats_compute",
            can_read=job_readable_by(Role.REVIEWER, Role.MANAGER),
            soft_time_limit=300,
            time_limit=330,
        )
        for kind, runner in [
            (JobKind.IMPORT_ITEMS, "labeling.services.items.items_import_run"),
            (JobKind.IMPORT_ANNOTATIONS, "labeling.services.annotation_import.annotations_import_run"),
        ]:
            jobs_register(
                kind=kind,
                label=kind.label,
                runner=runner,
                can_read=job_readable_by(Role.MANAGER),
                queue="imports",
                soft_time_limit=3500,
                time_limit=3600,
            )
        account_projects_register(account_projects)
        # Presigned media URLs may point at the bucket: images, audio and fetches load from there.
        csp_origin_register(media_origin)
