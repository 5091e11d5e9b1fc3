"""Settings shared by every environment; each value comes from the environment (12-factor)."""

import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from config.settings.database import database_settings
from config.settings.storage import object_storage_settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("CONCORD_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "axes",
    "django_prometheus",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "labeling",
    "consistency",
    "demo",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "core.http.logs.RequestIdMiddleware",
    "core.http.timing.ServerTimingMiddleware",
    "core.http.security.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # After CSRF (which reads page forms first anyway): refuses NUL, lone surrogates, 10**30.
    "core.http.middleware.InputGuardMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After auth: a one-time password must be changed before any other page or API call.
    "core.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.http.middleware.ApplicationErrorPageMiddleware",
    # Last, as django-axes asks: it turns locked-out logins into a 429 page.
    "axes.middleware.AxesMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
# /metrics (Prometheus) answers staff sessions and `Authorization: Bearer $METRICS_TOKEN`.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# Login rate limiting (django-axes): after AXES_FAILURE_LIMIT failures for one username from one
# client address, that combination is locked for AXES_COOLOFF_TIME hours. Locking the address
# alone would lock everyone behind a shared proxy or NAT; locking the username alone would let
# anyone lock out any account. Unknown usernames count like known ones, so responses don't
# reveal which accounts exist.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client's address. TRUSTED_PROXY_COUNT reverse proxies (TLS terminator, load balancer)
# stand between clients and gunicorn, each appending to X-Forwarded-For: the client is then the
# TRUSTED_PROXY_COUNT-th address from the right (what a client writes further left is not
# believed). 0 (the default): no proxy, the connection's own address (REMOTE_ADDR); the header
# is ignored, so a client can't pick the address it is counted under.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)


def client_address_settings(trusted_proxies: int) -> dict:
    """django-axes' (ipware's) settings for the client address behind ``trusted_proxies``."""
    if trusted_proxies < 0:
        raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")
    if not trusted_proxies:
        return {"AXES_IPWARE_META_PRECEDENCE_ORDER": ["REMOTE_ADDR"], "AXES_IPWARE_PROXY_COUNT": None}
    # ipware counts the proxies listed in the header: all but the last, which is REMOTE_ADDR.
    return {
        "AXES_IPWARE_META_PRECEDENCE_ORDER": ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"],
        "AXES_IPWARE_PROXY_COUNT": trusted_proxies - 1,
    }


AXES_IPWARE_PROXY_ORDER = "left-most"
_client_address = client_address_settings(TRUSTED_PROXY_COUNT)
AXES_IPWARE_META_PRECEDENCE_ORDER = _client_address["AXES_IPWARE_META_PRECEDENCE_ORDER"]
AXES_IPWARE_PROXY_COUNT = _client_address["AXES_IPWARE_PROXY_COUNT"]
# A header longer than expected (a client's own X-Forwarded-For in front) is fine: the position
# from the right decides. Strict mode would drop such a header and count the proxy's address.
IPWARE_STRICT = False

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# DATABASE_URL, and DATABASE_REPLICA_URL for a read replica the exports read: what each does in
# config/settings/database.py and docs/deploy.md.
_databases = database_settings(os.environ, VAR_DIR)
DATABASES = _databases["DATABASES"]
DATABASE_POOLER: str = _databases["DATABASE_POOLER"]
CONCORD_REPLICA_MAX_LAG_SECONDS: float = _databases["CONCORD_REPLICA_MAX_LAG_SECONDS"]
CONCORD_REPLICA_WAIT_SECONDS: float = _databases["CONCORD_REPLICA_WAIT_SECONDS"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects"
LOGOUT_REDIRECT_URL = "login"
# Mail (password reset links). Locally the mail is printed to the terminal; set EMAIL_HOST
# (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS) to send it for real.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Concord <concord@localhost>")
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 3600)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Object storage (django-storages' S3 backend, its own setting names): with
# AWS_STORAGE_BUCKET_NAME, media, thumbnails, waveforms, import uploads and snapshot files live
# in the bucket, so any web or worker node sees them; without it, the local disk under
# MEDIA_ROOT (`make run`). What each setting does: config/settings/storage.py, docs/deploy.md.
globals().update(object_storage_settings(os.environ, STORAGES))

# Uploads: bigger bodies go to disk; the import services enforce their own caps.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 50 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
# Each uploaded file (files stream to disk; bigger ones get a 413).
CONCORD_MAX_UPLOAD_BYTES = env_int("CONCORD_MAX_UPLOAD_BYTES", 2 * 1024**3)
# The cap above holds before the body is read: a multipart body over it is never stored.
FILE_UPLOAD_HANDLERS = [
    "core.http.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Record imports (JSON body or record files) up to this size run in the request; larger ones,
# and all media, run as a background job.
CONCORD_IMPORT_INLINE_MAX_BYTES = env_int("CONCORD_IMPORT_INLINE_MAX_BYTES", 16 * 1024**2)
# Fresh numbers: exports read answers created after (the latest run's start − this margin) live,
# so an answer committed while the run was reading is never missed.
CONCORD_LIVE_MARGIN_SECONDS = env_int("CONCORD_LIVE_MARGIN_SECONDS", 60)
# After a resolution, a schema change or CONCORD_AUTORUN_ANSWERS new answers, an agreement run
# starts on a worker once the project has been quiet this long (0: no automatic runs).
CONCORD_AUTORUN_QUIET_SECONDS = env_int("CONCORD_AUTORUN_QUIET_SECONDS", 2)
CONCORD_AUTORUN_ANSWERS = env_int("CONCORD_AUTORUN_ANSWERS", 50)
# Per-item results (one row per item and run) are kept for the latest this-many succeeded runs
# of each project; older runs keep their report (consistency/services/run_retention.py). A run
# is pruned only this long after it stopped being the latest, so its readers have finished.
CONCORD_RUN_RESULTS_KEEP = env_int("CONCORD_RUN_RESULTS_KEEP", 3)
CONCORD_RUN_RESULTS_GRACE_SECONDS = env_int("CONCORD_RUN_RESULTS_GRACE_SECONDS", 3600)
if CONCORD_RUN_RESULTS_KEEP < 1:  # the latest run's results are what every page reads
    raise ImproperlyConfigured("CONCORD_RUN_RESULTS_KEEP must be at least 1.")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Ours: depth, NUL, surrogates and 64-bit checks on every body (core/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "core.api.parsers.MultiPartParser",
        "core.api.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.ConcordAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # `format` is an export parameter (jsonl, csv, …), not a renderer switch.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Concord API",
    "DESCRIPTION": (
        "Label audio, images and records with several labelers per item, measure agreement "
        "and human-level performance, and export consensus datasets. Errors are 4xx with "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from the app (sidecar package), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery: with REDIS_URL a real broker and workers; without it tasks run in-process,
# so `make run` works with nothing else installed. Never a silent fallback when a
# configured broker is down (that is an error the caller sees).
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 1800)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 1900)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redelivery after a dead worker: a task not acknowledged within this many seconds
# is given to another worker (must exceed the longest task).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 300}
CELERY_TASK_DEFAULT_QUEUE = "concord"
# One queue per kind of job, so a deployment can give each its own workers and concurrency
# (`celery worker -Q runs --concurrency=1` on a big machine, `-Q imports,exports` elsewhere).
# A worker started without -Q consumes all four (docker-compose, `make worker`, the tests).
CELERY_TASK_QUEUES = [Queue(name) for name in ("concord", "imports", "runs", "exports")]
# Jobs (imports, statistics, snapshots) all run through core.jobs.tasks.job_run: each message
# names its kind's queue, as the kind's app registered it (core/jobs/registry.py): imports to
# "imports", snapshots to "exports", statistics to "concord".
CELERY_TASK_ROUTES = {
    "consistency.tasks.runs.agreement_run_compute_task": {"queue": "runs"},
    "consistency.tasks.fits.labeler_fit_refresh_task": {"queue": "runs"},
    "consistency.tasks.exports.export_counts_warm_task": {"queue": "exports"},
}

# The cache holds what every web node must share (caps, throttles, short-lived counters:
# core/shared_state.py): Redis whenever REDIS_URL is set, so any number of
# gunicorn instances agree; process memory only for `make run`. Short socket timeouts: with
# Redis down a request answers at once (each use says which safe way it fails).
CACHE_URL = os.environ.get("CACHE_URL") or REDIS_URL
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "concord",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

LOGGING: dict[str, Any] = {  # dictConfig; production.py sets the console formatter
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.http.logs.JsonFormatter"},
    },
    # LOG_FORMAT=json (the default in production) writes one JSON object per line.
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": os.environ.get("LOG_FORMAT", "plain")}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# `next` reclaims expired leases of its project at most this often (per process); beat sweeps all.
LEASE_RECLAIM_EVERY_SECONDS = env_int("LEASE_RECLAIM_EVERY_SECONDS", 5)

CELERY_BEAT_SCHEDULE = {
    "reclaim-expired-leases": {"task": "labeling.tasks.leases.leases_reclaim_task", "schedule": 60.0},
    "start-due-agreement-runs": {"task": "consistency.tasks.runs.agreement_runs_auto_task", "schedule": 60.0},
    "reap-stuck-work": {"task": "core.jobs.tasks.stuck_work_reap_task", "schedule": 300.0},
    "prune-old-run-results": {
        "task": "consistency.tasks.runs.agreement_runs_prune_due_task",
        "schedule": 3600.0,
    },
    "refit-adaptive-labeler-estimates": {
        "task": "consistency.tasks.fits.labeler_fits_due_task",
        "schedule": 60.0,
    },
}
