from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at module level: models are loaded only once the registry is ready.
        from core.accounts import signals  # noqa: F401 — connects the token revocation
        from core.jobs import tasks
        from core.jobs.lifecycle import lifecycle_register
        from core.jobs.models import Job
        from core.jobs.registry import job_task_set

        job_task_set(tasks.job_run)
        lifecycle_register(model=Job, name="jobs")
