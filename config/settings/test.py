"""Tests: real PostgreSQL and Redis from DATABASE_URL / REDIS_URL, defaulting to localhost."""

import os
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@localhost:5432/concord")
os.environ.setdefault("REDIS_URL", "redis://localhost:6379/15")

from config.settings.base import *  # noqa: F403
from config.settings.base import VAR_DIR

SECRET_KEY = "test-only-secret-key"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or VAR_DIR / "test-media")  # the processes a test starts
# The default storage follows the environment (local disk, or the bucket that the object
# storage tests start their web and worker processes with).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
# Tests run tasks in-process by default (eager) so a service's effect is visible at
# once; tests marked `worker` switch this off and talk to a real worker over Redis. The worker
# they start (CONCORD_REAL_WORKER=1) sends its own follow-up tasks through Redis too: run
# eagerly inside the worker, a debounce task that reschedules itself would recurse.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CONCORD_REAL_WORKER") != "1"

# Static files come from the finders here; an empty STATIC_ROOT keeps WhiteNoise quiet.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
# Each test empties the cache (tests/conftest.py); Redis' clear() would flush the broker's database.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
LEASE_RECLAIM_EVERY_SECONDS = 0  # tests see expired leases reclaimed at once
