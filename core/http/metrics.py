"""Prometheus metrics (django-prometheus), not for the public: staff or a bearer token."""

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    by_token = bool(token) and hmac.compare_digest(header, f"Bearer {token}")
    if not (by_token or (request.user.is_authenticated and request.user.is_staff)):
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    response: HttpResponse = ExportToDjangoView(request)
    return response
