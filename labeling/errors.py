"""The application's error hierarchy. Services raise these; one DRF handler renders them.

Shape on the wire: ``{"error": {"code": ..., "message": ..., "fields": {...}}}``.
"""


class ApplicationError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict | None = None, code: str | None = None, extra=None):
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


class ServiceUnavailable(ApplicationError):
    """A dependency (the broker) is down: the caller should retry later, nothing was accepted."""

    status_code = 503
    code = "service_unavailable"
    retry_after_seconds = 30
