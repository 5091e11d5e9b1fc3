"""The Celery app. Tasks take ids, call a service, and are dispatched after commit.

Importing the `config` package imports this module first, before `config.wsgi` or
`config.asgi` run: whatever default is set here is the default of every server entry
point. It is production (which refuses to start without SECRET_KEY); `manage.py`,
`make run`, `make worker` and the tests name their own settings module.
"""

import logging
import os

from celery import Celery
from celery.signals import worker_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("concord")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _allocator_tune(**_: object) -> None:
    # Agreement runs free many arrays of a few MB: hand them back (core/memory.py). A forked
    # pool's processes inherit the setting.
    from core.memory import allocator_tune

    allocator_tune()


@worker_ready.connect
def _log_settings(**_: object) -> None:
    # Operators (and tests/test_entry_points.py) see which settings a worker really runs with.
    from django.conf import settings

    logging.getLogger("concord.worker").info(
        "Concord worker ready: settings=%s DEBUG=%s", os.environ["DJANGO_SETTINGS_MODULE"], settings.DEBUG
    )
