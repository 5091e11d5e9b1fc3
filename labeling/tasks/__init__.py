"""Celery adapters for the labeling app; each module registers its tasks on import.

Labeling's jobs (imports, statistics) run through core's one task, ``core.jobs.tasks.job_run``,
by the runners registered in ``labeling.apps``.
"""

from labeling.tasks.leases import leases_reclaim_task

__all__ = ["leases_reclaim_task"]
