"""Celery adapters for the labeling app; each module registers its tasks on import."""

from labeling.tasks.stats import project_stats_refresh_task

__all__ = ["project_stats_refresh_task"]
