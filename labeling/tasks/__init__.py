"""Celery adapters for the labeling app; each module registers its tasks on import."""

from labeling.tasks.imports import annotations_import_task, items_import_task
from labeling.tasks.leases import leases_reclaim_task
from labeling.tasks.reaper import stuck_work_reap_task
from labeling.tasks.stats import project_stats_refresh_task

__all__ = [
    "annotations_import_task",
    "items_import_task",
    "leases_reclaim_task",
    "project_stats_refresh_task",
    "stuck_work_reap_task",
]
