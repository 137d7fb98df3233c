"""Request ids: every request gets one (the caller's X-Request-ID, or a new one), bound to the
log context for everything logged while it is served, and echoed in the answer."""

import logging
import re
import time
import uuid

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.http import JsonResponse

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


API_PREFIX = "/api/"
# The bundled paper exchange's own JSON API: the same rules, in its error format ({"error": {...}}).
PAPER_API_PREFIX = "/paper/api/"
# Query parameters the API takes as a list (?status=A&status=B); any other given twice is a 400.
LIST_PARAMETERS = frozenset({"status"})
_ERROR_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "unsupported_media_type",
    500: "server_error",
}


def _json_error(
    status: int, message: str, fields: dict[str, list[str]] | None = None, *, paper: bool = False
) -> JsonResponse:
    body = {"code": _ERROR_CODES.get(status, "error"), "message": message, "fields": fields or {}}
    if paper:
        body = {"error": {**body, "code": body["code"].upper()}}
    return JsonResponse(body, status=status)


class ApiErrorsMiddleware:
    """Every answer under /api/ is JSON in the desk's error format ({code, message, fields}),
    also those made outside DRF: an unknown path or an id that is not a number (Django's 404
    page), a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413, refused before anything reads it), a
    repeated query parameter (400 naming it; otherwise the last one would silently win). The
    paper exchange's JSON API under /paper/api/ gets the same, in its own error format."""

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
        if not request.path.startswith((API_PREFIX, PAPER_API_PREFIX)):
            return self.get_response(request)
        return self._finish(request, self._refuse(request) or self.get_response(request))

    async def _acall(self, request):
        if not request.path.startswith((API_PREFIX, PAPER_API_PREFIX)):
            return await self.get_response(request)
        return self._finish(request, self._refuse(request) or await self.get_response(request))

    def _finish(self, request, response):
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith("application/json"):
            message = self._message(request, response.status_code)
            return _json_error(response.status_code, message, paper=_is_paper(request))
        return response

    def _refuse(self, request) -> JsonResponse | None:
        paper = _is_paper(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            fields = {"Content-Length": ["must be a number"]}
            return _json_error(400, "Content-Length is not a number.", fields, paper=paper)
        if limit is not None and length > limit:
            return _json_error(413, f"The request body is larger than {limit} bytes.", paper=paper)
        if paper:
            return None
        repeated = {
            name: [f"give one value, not {len(request.GET.getlist(name))}"]
            for name in request.GET
            if name not in LIST_PARAMETERS and len(request.GET.getlist(name)) > 1
        }
        if repeated:
            return _json_error(400, "; ".join(f"{name}: {reason[0]}" for name, reason in repeated.items()), repeated)
        return None

    def _message(self, request, status: int) -> str:
        if status == 404:
            return f"No API endpoint or row at {request.path}; ids are whole numbers."
        if status == 405:
            return f"{request.method} is not allowed on {request.path}."
        if status == 413:
            return "The request body is too large."
        if status >= 500:
            return "The server failed to answer; the request id in X-Request-ID finds it in the logs."
        return "The request could not be read."


def _is_paper(request) -> bool:
    return request.path.startswith(PAPER_API_PREFIX)


class ApiMiddlewareMixin:
    """A Django handler built from settings.API_MIDDLEWARE instead of settings.MIDDLEWARE: the
    chain the API's requests need, without the middleware only pages use (settings.py)."""

    def load_middleware(self, is_async: bool = False) -> None:
        # Django's loader reads settings.MIDDLEWARE; it is swapped only while this handler is
        # built, once as the process starts, before it serves anything.
        pages = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = pages


class ApiWSGIHandler(ApiMiddlewareMixin, WSGIHandler):
    """Django's WSGI handler for requests under /api/ (tradedesk/asgi.py)."""
