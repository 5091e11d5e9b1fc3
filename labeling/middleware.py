"""Pages get the same error semantics as the API: an ApplicationError becomes its 4xx page."""

from django.shortcuts import render

from labeling.errors import ApplicationError


class ApplicationErrorPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApplicationError) or request.path.startswith("/api/"):
            return None
        return render(
            request,
            "error.html",
            {"status": exception.status_code, "message": exception.message},
            status=exception.status_code,
        )
