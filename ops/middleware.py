"""First in MIDDLEWARE: answers the liveness probe and counts every request for /metrics."""

import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse

from ops import counters

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def _liveness() -> JsonResponse:
    return JsonResponse({"status": "ok"})


class OpsMiddleware:
    """`/healthz` is answered here, before host validation, the HTTPS redirect, sessions and
    the database: it says only that this process answers, so a probe by container address
    (docker's healthcheck, a load balancer) gets its 200 whatever ALLOWED_HOSTS holds.

    Every other request is timed and counted by route pattern (not the raw path, so ids in URLs
    do not make a new series each)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self._acall(request)
        if request.path == "/healthz":
            return _liveness()
        started = time.monotonic()
        response = self.get_response(request)
        _observe(request, response, started)
        return response

    async def _acall(self, request: HttpRequest):
        if request.path == "/healthz":
            return _liveness()
        started = time.monotonic()
        response = await self.get_response(request)
        _observe(request, response, started)
        return response


def _observe(request: HttpRequest, response: HttpResponse, started: float) -> None:
    match = getattr(request, "resolver_match", None)
    route = f"/{match.route}" if match is not None and match.route else "unmatched"
    method = request.method if request.method in _METHODS else "other"  # clients may send anything
    counters.HTTP_REQUESTS.labels(route=route, method=method, status=str(response.status_code)).inc()
    counters.HTTP_DURATION.labels(route=route).observe(time.monotonic() - started)
