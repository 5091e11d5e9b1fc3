from celery import shared_task

from consistency.services.labeler_fits import labeler_fit_refresh, labeler_fits_request_due


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def labeler_fit_refresh_task(project_id: int) -> None:
    """Refit an adaptive project's labeler estimates (a refit is idempotent)."""
    labeler_fit_refresh(project_id=project_id)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def labeler_fits_due_task() -> list[int]:
    """Periodic (beat): refit adaptive projects whose answers grew enough since their last fit."""
    return labeler_fits_request_due()
