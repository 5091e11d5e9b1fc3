"""Local development: SQLite under var/ and in-process tasks unless the environment says otherwise."""

import os
import secrets

from config.settings.base import *  # noqa: F403
from config.settings.base import VAR_DIR, env_bool

DEBUG = env_bool("DEBUG", True)


def _local_secret_key() -> str:
    """SECRET_KEY from the environment, else this checkout's own `var/secret_key` (made once,
    mode 600, as `make run` does). Never a constant: a key in the source is a key anyone can
    use to forge sessions on any instance started with these settings."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
    return path.read_text().strip()


SECRET_KEY = _local_secret_key()

# Static files come from the finders here; an empty STATIC_ROOT keeps WhiteNoise quiet.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
