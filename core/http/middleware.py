"""Pages get the same error semantics as the API: an ApplicationError becomes its 4xx page,
and a database connection lost mid-request a 503 page (nothing was saved; retry)."""

import logging
import re
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from core.api.errors import error_body
from core.errors import ApplicationError, database_failure
from core.text import INT_LIMIT, unsafe_text_reason

logger = logging.getLogger(__name__)
GetResponse = Callable[[HttpRequest], HttpResponse]


class ApplicationErrorPageMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None
        if (lost := database_failure(exception)) is not None:
            logger.warning("database connection lost during %s", request.path, exc_info=exception)
            # A page of its own, rendered without a query: the database may still be away.
            response = HttpResponse(
                render_to_string("unavailable.html", {"message": lost.message}), status=503
            )
            response["Retry-After"] = str(lost.retry_after_seconds)
            return response
        if not isinstance(exception, ApplicationError):
            return None
        return render(
            request,
            "error.html",
            {"status": exception.status_code, "message": exception.message},
            status=exception.status_code,
        )


_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")


def _unsafe_value(name: str, value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and not -INT_LIMIT <= value <= INT_LIMIT:
        return f"{name} is beyond 64-bit integers."
    if not isinstance(value, str):
        return None
    if reason := unsafe_text_reason(value):
        return f"{name} contains {reason}."
    if _INTEGER.match(value):
        digits = value.strip().lstrip("+-").lstrip("0")
        # Length first: int() of more than 4,300 digits is itself an error.
        if len(digits) > 19 or (len(digits) == 19 and int(digits) > INT_LIMIT):
            return f"{name} is beyond 64-bit integers."
    return None


class InputGuardMiddleware:
    """A 400 for input no database column can hold, whatever view it is for: NUL characters
    and lone surrogates in the query string, URL ids and page form fields, and integers beyond
    64 bits (`?limit=10**30`, `/api/items/10**30/`) that PostgreSQL and SQLite refuse with an
    error, not an answer. API bodies get the same checks in core.api.parsers."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            for value in [name, *values]:
                if reason := _unsafe_value(f"The query parameter {name[:40]!r}", value):
                    return _bad_request(request, reason)
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        for name, value in view_kwargs.items():
            if reason := _unsafe_value(f"The URL's {name}", value):
                return _bad_request(request, reason)
        form = request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        if request.method == "POST" and form and not request.path.startswith("/api/"):
            for name, values in request.POST.lists():
                for value in [name, *values]:
                    if reason := _unsafe_value(f"The field {name[:40]!r}", value):
                        return _bad_request(request, reason)
        return None


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("invalid", message), status=400)
    return render(request, "error.html", {"status": 400, "message": message}, status=400)
