"""One exception handler: every 4xx/5xx the API produces has the same JSON shape."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError, ServiceUnavailable, database_failure

logger = logging.getLogger(__name__)

_DRF_CODES = {
    drf.ValidationError: "invalid",
    drf.ParseError: "malformed_request",
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "authentication_failed",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "throttled",
}


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, v in detail.items() for m in _flatten(v)]
    if isinstance(detail, list):
        return [m for d in detail for m in _flatten(d)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {
            key: (_fields(value) if isinstance(value, dict) else [str(m) for m in _flatten(value)])
            for key, value in detail.items()
        }
    return {"non_field_errors": [str(m) for m in _flatten(detail)]}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if (lost := database_failure(exc)) is not None:
        logger.warning("database connection lost during %s", context["request"].path, exc_info=exc)
        exc = lost
    if isinstance(exc, ApplicationError):
        response = Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
        if exc.extra:
            response.data["error"].update(exc.extra)
        if isinstance(exc, ServiceUnavailable):
            response["Retry-After"] = str(exc.retry_after_seconds)
        return response
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024**2
        return Response(
            error_body("too_large", f"The request body is over {limit} MB; upload a file instead."),
            status=413,
        )
    if isinstance(exc, DjangoValidationError):
        detail: Any = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = drf.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    handled = drf_exception_handler(exc, context)
    if handled is None:
        return None
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, drf.ValidationError):
        fields = _fields(exc.detail)
        message = "; ".join(_flatten(exc.detail)) or "Invalid input."
        handled.data = error_body(code, message, fields)
    else:
        detail = exc.detail if isinstance(exc, drf.APIException) else str(exc)  # a DRF exception
        handled.data = error_body(code, " ".join(_flatten(detail)))
    return handled
