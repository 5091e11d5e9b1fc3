"""Pages get the same error semantics as the API: an ApplicationError becomes its 4xx page,
and a database connection lost mid-request a 503 page (nothing was saved; retry)."""

import logging

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from labeling.errors import ApplicationError, database_failure

logger = logging.getLogger(__name__)


class ApplicationErrorPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
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
