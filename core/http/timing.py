"""`Server-Timing: app;dur=<ms>` on every response: processing time from the moment a worker
picks the request up until the response is ready (queueing before that is not included).
Benchmarks read it to separate server time from client-side latency."""

import time


class ServerTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response
