"""Local development: SQLite under var/ and in-process tasks unless the environment says otherwise."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import env_bool

DEBUG = env_bool("DEBUG", True)
# `make run` writes a generated key to var/secret_key; this fallback only serves
# one-off commands (`manage.py check`) in a fresh checkout and never production.
SECRET_KEY = os.environ.get("SECRET_KEY") or "insecure-local-development-key-not-for-production"

# Static files come from the finders here; an empty STATIC_ROOT keeps WhiteNoise quiet.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
