"""Project configuration: settings from the environment, the Celery app, root URLs."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
