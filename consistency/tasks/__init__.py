"""Celery adapters for the consistency app."""

from consistency.tasks.exports import export_counts_warm_task
from consistency.tasks.fits import labeler_fit_refresh_task, labeler_fits_due_task
from consistency.tasks.runs import (
    agreement_run_compute_task,
    agreement_run_debounced_task,
    agreement_runs_auto_task,
    agreement_runs_prune_due_task,
    agreement_runs_prune_task,
)

__all__ = [
    "agreement_run_compute_task",
    "agreement_run_debounced_task",
    "agreement_runs_auto_task",
    "agreement_runs_prune_due_task",
    "agreement_runs_prune_task",
    "export_counts_warm_task",
    "labeler_fit_refresh_task",
    "labeler_fits_due_task",
]
