"""Database settings from the environment: the primary (``DATABASE_URL``) and, when
``DATABASE_REPLICA_URL`` is set, a streaming read replica that exports read from
(``consistency.exports.source``; docs/deploy.md). In one function the tests reuse."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

REPLICA = "replica"


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    value = (environ.get(name) or "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from exc
    if number < 0:
        raise ImproperlyConfigured(f"{name} must be 0 or more, got {value!r}")
    return number


def _pooled(db: dict[str, Any]) -> None:
    """Behind PgBouncer in transaction pooling mode nothing may outlive a transaction: no
    server-side cursors outside one (Django's ``.iterator()`` uses WITH HOLD cursors there; its
    rows then come in one result) and no prepared statements (psycopg prepares a query run 5
    times; PgBouncer < 1.21 can't follow). Session settings only as SET LOCAL. docs/deploy.md."""
    db["DISABLE_SERVER_SIDE_CURSORS"] = True
    db.setdefault("OPTIONS", {})["prepare_threshold"] = None


def database_settings(environ: Mapping[str, str], var_dir: Path) -> dict:
    """``DATABASES``, ``DATABASE_POOLER`` and the replica's ``CONCORD_REPLICA_*`` settings."""
    conn_max_age = int(_number(environ, "DB_CONN_MAX_AGE", 60))
    default: dict[str, Any] = dict(
        dj_database_url.parse(
            environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'concord.sqlite3'}",
            conn_max_age=conn_max_age,
            conn_health_checks=True,
        )
    )
    if default["ENGINE"] == "django.db.backends.sqlite3":
        # `make run`: write-ahead logging with one sync per checkpoint instead of several per commit
        # (still safe against a crashed process), and writers take the lock up front, so a submit
        # never fails upgrading a read lock. Submit → next went from ~50 to ~10 ms of database time.
        # A writer waits up to 20 s for another's lock instead of failing at once with "database is
        # locked" (30 concurrent labelers: tests/test_local_sqlite.py).
        default.setdefault("OPTIONS", {}).update(
            init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            transaction_mode="IMMEDIATE",
            timeout=20,
        )
    # DATABASE_POOLER=pgbouncer: DATABASE_URL (and DATABASE_REPLICA_URL) point at PgBouncer in
    # transaction pooling mode, where consecutive transactions of one client may run on
    # different server connections.
    pooler = (environ.get("DATABASE_POOLER") or "").strip().lower()
    if pooler not in {"", "pgbouncer"}:
        raise ImproperlyConfigured(f"DATABASE_POOLER must be empty or 'pgbouncer', got {pooler!r}")
    postgres = "django.db.backends.postgresql"
    if pooler and default["ENGINE"] == postgres:
        _pooled(default)
    databases = {"default": default}
    replica_url = (environ.get("DATABASE_REPLICA_URL") or "").strip()
    if replica_url:
        replica: dict[str, Any] = dict(
            dj_database_url.parse(replica_url, conn_max_age=conn_max_age, conn_health_checks=True)
        )
        if replica["ENGINE"] != postgres or default["ENGINE"] != postgres:
            raise ImproperlyConfigured("DATABASE_REPLICA_URL needs PostgreSQL for it and for DATABASE_URL.")
        if pooler:
            _pooled(replica)
        # An unreachable replica costs an export this long before it falls back to the primary.
        replica.setdefault("OPTIONS", {})["connect_timeout"] = int(
            _number(environ, "DATABASE_REPLICA_CONNECT_TIMEOUT", 2)
        )
        # Tests never create a database on the replica (it is read-only): it mirrors the primary's.
        replica["TEST"] = {"MIRROR": "default"}
        databases[REPLICA] = replica
    return {
        "DATABASES": databases,
        "DATABASE_POOLER": pooler,
        # How stale an export read from the replica may be. 0 (the default): the replica must
        # have replayed everything the primary had written when the export began, so decisions
        # stay live (a reviewer's resolve, then an export, sees it); more: up to this many
        # seconds of replay lag are accepted (and said in X-Concord-Replica-Lag).
        "CONCORD_REPLICA_MAX_LAG_SECONDS": _number(environ, "CONCORD_REPLICA_MAX_LAG_SECONDS", 0),
        # How long an export waits for a replica behind the primary before it reads the primary.
        "CONCORD_REPLICA_WAIT_SECONDS": _number(environ, "CONCORD_REPLICA_WAIT_SECONDS", 1),
    }
