"""The application's error hierarchy. Services raise these; one DRF handler renders them.

Shape on the wire: ``{"error": {"code": ..., "message": ..., "fields": {...}}}``.
"""

from typing import Any


class ApplicationError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, Any] | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code
        self.extra = extra or {}

    def with_status(self, status_code: int) -> "ApplicationError":
        self.status_code = status_code
        return self


class Invalid(ApplicationError):
    status_code = 400
    code = "invalid"


class PermissionDenied(ApplicationError):
    status_code = 403
    code = "permission_denied"


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"


class Conflict(ApplicationError):
    status_code = 409
    code = "conflict"


class Gone(ApplicationError):
    """What was asked for existed and was removed on purpose (a retention rule): asking again
    will not bring it back."""

    status_code = 410
    code = "gone"


class ServiceUnavailable(ApplicationError):
    """A dependency (the broker) is down: the caller should retry later, nothing was accepted."""

    status_code = 503
    code = "service_unavailable"
    retry_after_seconds = 30


class DatabaseUnavailable(ServiceUnavailable):
    """The database connection dropped (or the server went away) in the middle of a request.

    Every write path runs in a transaction, so the broken transaction rolled back: nothing of
    the request was stored and the client may simply retry.
    """

    code = "database_unavailable"
    retry_after_seconds = 5

    def __init__(self) -> None:
        super().__init__(
            "The database connection was lost while handling this request; nothing was saved. "
            "Retry in a moment."
        )


# SQLSTATEs of a lost PostgreSQL connection: class 08 (connection exception), and the server
# shutting the session down (admin shutdown, crash shutdown, cannot connect now).
_LOST_STATES = ("57P01", "57P02", "57P03")


def _connection_lost(exc: BaseException) -> bool:
    """True only when the database connection itself is gone. Other OperationalErrors (SQLite's
    "database is locked" or "malformed JSON", a statement timeout) are errors of the request."""
    from django.db import InterfaceError, connections

    if isinstance(exc, InterfaceError):  # "connection already closed"
        return True
    state = getattr(exc.__cause__, "sqlstate", None) or ""
    if state.startswith("08") or state in _LOST_STATES:
        return True
    for connection in connections.all(initialized_only=True):
        if connection.vendor == "sqlite":
            continue
        raw = connection.connection
        if raw is None or getattr(raw, "broken", False) or getattr(raw, "closed", False):
            return True  # never connected, or the driver saw the connection drop
    return False


def database_failure(exc: BaseException) -> DatabaseUnavailable | None:
    """A DatabaseUnavailable for a lost connection, else None (those errors stay errors).

    Closes connections the failure left unusable, so this same worker thread reconnects on its
    next query instead of failing every later request with "connection already closed".
    """
    from django.db import InterfaceError, OperationalError, connections

    if not isinstance(exc, OperationalError | InterfaceError) or not _connection_lost(exc):
        return None
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
    return DatabaseUnavailable()
