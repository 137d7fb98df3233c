"""Errors a user can cause, and how the API turns every error into a JSON 4xx.

Body of every API error: {"code": "...", "message": "...", "fields": {"field": ["reason"]}}.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """Base for errors users can cause: a stable code, an HTTP status, a message that helps."""

    code = "application_error"
    http_status = status.HTTP_400_BAD_REQUEST

    def __init__(
        self, message: str, *, field: str | None = None, code: str | None = None, figures: dict | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # The numbers a rule compared (limit, used, asked...), kept with a refused confirm's record.
        self.figures = figures or {}
        if code:
            self.code = code

    def as_dict(self) -> dict[str, Any]:
        fields = {self.field: [self.message]} if self.field else {}
        text = f"{self.field}: {self.message}" if self.field else self.message
        return {"code": self.code, "message": text, "fields": fields}


class InvalidInput(ApplicationError):
    code = "invalid"


class NotFound(ApplicationError):
    code = "not_found"
    http_status = status.HTTP_404_NOT_FOUND


class Forbidden(ApplicationError):
    code = "forbidden"
    http_status = status.HTTP_403_FORBIDDEN


class Conflict(ApplicationError):
    """The request is valid but the row's current state does not allow it (409)."""

    code = "conflict"
    http_status = status.HTTP_409_CONFLICT


class IllegalTransition(Conflict):
    code = "illegal_transition"


class IdempotencyMismatch(ApplicationError):
    code = "idempotency_key_reused"
    http_status = status.HTTP_422_UNPROCESSABLE_ENTITY


class RiskRejected(ApplicationError):
    """A risk rule refused the order; `code` names the rule."""

    code = "risk_rejected"
    http_status = status.HTTP_422_UNPROCESSABLE_ENTITY


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
        return out
    if isinstance(detail, list):
        if detail and all(not isinstance(item, (dict, list)) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(_flatten(item, f"{prefix}[{index}]" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def _body(code: str, fields: dict[str, list[str]], message: str | None = None) -> dict[str, Any]:
    if message is None:
        # DRF's reasons end in a full stop: joined as they are they read "required.; side: ..."
        message = "; ".join(f"{name}: {' '.join(reasons).rstrip('.')}" for name, reasons in fields.items())
    return {"code": code, "message": message, "fields": fields}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(_body("invalid", _flatten(detail)), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        response.data = _body("invalid", _flatten(exc.detail))
    elif isinstance(exc, drf_exceptions.APIException):
        detail = exc.detail
        message = str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
        code = exc.get_codes() if not isinstance(exc.get_codes(), (dict, list)) else exc.default_code
        response.data = _body(str(code), {}, message)
    return response
