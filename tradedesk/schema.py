"""OpenAPI pieces shared by every API: the error body and the error responses."""

from decimal import Decimal

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers

from tradedesk import roles
from tradedesk.auth import strategy_key_of

ErrorOutput = inline_serializer(
    "ApiError",
    {
        "code": serializers.CharField(help_text="Stable machine-readable code."),
        "message": serializers.CharField(help_text="What went wrong and what to do."),
        "fields": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Reasons per input field.",
        ),
    },
)

ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorOutput, description="Invalid input; `fields` names each field and reason."),
    401: OpenApiResponse(ErrorOutput, description="Missing or wrong credentials."),
    403: OpenApiResponse(ErrorOutput, description="Authenticated, but the role does not allow it."),
    404: OpenApiResponse(ErrorOutput, description="No such row (or not yours)."),
    409: OpenApiResponse(ErrorOutput, description="The row's current state does not allow it."),
    422: OpenApiResponse(ErrorOutput, description="Refused by a rule (risk limit, idempotency key reuse)."),
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The errors an operation answers beyond those every API operation may answer (400, 401,
    403; 404 with an id in the path; 413 and 415 with a body), which document_common_errors adds."""
    return {status: ERROR_RESPONSES[status] for status in statuses}


COMMON_ERRORS = {
    "400": "Invalid input (a parameter given twice, a bad filter value); `fields` names each one.",
    "401": "Missing, wrong, revoked or expired credentials.",
    "403": "Authenticated, but the role does not allow it.",
    "404": "No such row (or not yours), or an id that is not a whole number.",
    "413": "The body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB).",
    "415": "The body is not JSON (application/json).",
}


def document_common_errors(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook: every operation lists the errors any API operation may
    answer (the middleware, authentication and parsers answer them before the view), in the
    desk's error format, so a client generated from the schema expects them."""
    ref = {"$ref": "#/components/schemas/ApiError"}
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "ApiError",
        {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
            "required": ["code", "message", "fields"],
        },
    )
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            statuses = ["400", "401", "403"]
            if "{" in path:
                statuses.append("404")
            if "requestBody" in operation:
                statuses += ["413", "415"]
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(
                    status, {"content": {"application/json": {"schema": ref}}, "description": COMMON_ERRORS[status]}
                )
    return result


def positive_decimal(**kwargs) -> serializers.DecimalField:
    """A price or quantity field: Decimal, at most 10 decimal places, strictly positive."""
    return serializers.DecimalField(
        max_digits=28,
        decimal_places=10,
        min_value=Decimal("0.0000000001"),
        error_messages={"min_value": "must be greater than 0."},
        **kwargs,
    )


class ScopedSchemaView(SpectacularAPIView):
    """The OpenAPI schema, scoped to who asks: desk staff (any desk role) and strategy keys get
    the whole desk API; a follow-only user (a follower or master without a desk role) gets only
    the copy-trading API they can use, so the schema and /docs show them nothing of the desk."""

    # The parent's get is excluded from the schema (SERVE_INCLUDE_SCHEMA off); an override is not.
    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        if strategy_key_of(request) is None and roles.role_of(request.user) is None:
            self.urlconf = "following.urls"
        return super().get(request, *args, **kwargs)
