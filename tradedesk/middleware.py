"""Request ids: every request gets one (the caller's X-Request-ID, or a new one), bound to the
log context for everything logged while it is served, and echoed in the answer."""

import logging
import re
import time
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from tradedesk.logging import pop_context, push_context

logger = logging.getLogger("tradedesk.request")

HEADER = "X-Request-ID"
# A caller's id is kept only if it is short and plain (it goes into logs and a header as is).
_VALID_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")


def request_id_of(request) -> str:
    given = request.headers.get(HEADER, "")
    return given if _VALID_ID.match(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        request_id, token, started = self._start(request)
        try:
            response = self.get_response(request)
            self._finish(request, response, request_id, started)
            return response
        finally:
            pop_context(token)

    async def _acall(self, request):
        request_id, token, started = self._start(request)
        try:
            response = await self.get_response(request)
            self._finish(request, response, request_id, started)
            return response
        finally:
            pop_context(token)

    def _start(self, request):
        request_id = request_id_of(request)
        request.request_id = request_id
        return request_id, push_context(request_id=request_id), time.monotonic()

    def _finish(self, request, response, request_id: str, started: float) -> None:
        response[HEADER] = request_id
        # Writes and errors at INFO; successful reads (dashboards and price polls) at DEBUG.
        quiet = request.method in ("GET", "HEAD", "OPTIONS") and response.status_code < 400
        logger.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
