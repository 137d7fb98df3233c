"""OpenAPI pieces shared by every API: the error body and the error responses."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

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


def positive_decimal(**kwargs) -> serializers.DecimalField:
    """A price or quantity field: Decimal, at most 10 decimal places, strictly positive."""
    from decimal import Decimal

    return serializers.DecimalField(
        max_digits=28,
        decimal_places=10,
        min_value=Decimal("0.0000000001"),
        error_messages={"min_value": "must be greater than 0."},
        **kwargs,
    )
