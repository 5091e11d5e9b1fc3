"""Liveness and readiness probes for load balancers and orchestrators."""

from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    if not settings.REDIS_URL:
        return None
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except redis.RedisError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


REPLICA = "replica"  # the alias DATABASE_REPLICA_URL adds (config/settings/database.py)


def _check_replica() -> dict[str, Any] | None:
    """The read replica's state, when one is configured: ``ok`` with its lag, ``down``, or
    ``not_a_standby`` (promoted, or pointed at a primary). Reported, never a reason to be
    unready: exports read the primary whenever the replica can't serve them."""
    if REPLICA not in settings.DATABASES:
        return None
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), "
                "extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8"
            )
            standby, age = cursor.fetchone()
    except DatabaseError:
        connections[REPLICA].close_if_unusable_or_obsolete()
        return {"state": "down", "lag_seconds": None}
    if not standby:
        return {"state": "not_a_standby", "lag_seconds": None}
    # The age of the last replayed commit: an upper bound of the lag on a busy primary.
    return {"state": "ok", "lag_seconds": None if age is None else round(max(age, 0.0), 3)}


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    body: dict[str, Any] = {
        "status": "ok" if not any(checks.values()) else "unavailable",
        "checks": {name: ("ok" if error is None else "down") for name, error in checks.items()},
        "broker": "redis" if settings.REDIS_URL else "in-process",
    }
    replica = _check_replica()
    if replica is not None:
        body["checks"]["replica"] = replica["state"]
        body["replica_lag_seconds"] = replica["lag_seconds"]
    return JsonResponse(body, status=200 if body["status"] == "ok" else 503)
