from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from executor import selectors
from tradedesk.auth import IsViewer

HealthOutput = inline_serializer(
    "ExecutorHealth",
    {
        "ok": serializers.BooleanField(),
        "accounts": serializers.ListField(
            child=inline_serializer(
                "VenueSessionHealth",
                {
                    "label": serializers.CharField(),
                    "venue": serializers.CharField(),
                    "connector": serializers.CharField(),
                    "is_desk_default": serializers.BooleanField(),
                    "state": serializers.CharField(),
                    "detail": serializers.CharField(),
                    "updated_at": serializers.DateTimeField(allow_null=True),
                    "health": serializers.ChoiceField(choices=["unknown", "ok", "needs_person"]),
                    "health_detail": serializers.CharField(),
                },
            )
        ),
    },
)


class ExecutorHealthApi(APIView):
    """Per exchange account: browser session state (logged in, needs login, captcha, down) and
    health (keys valid, clock in step); 503 when the desk's own account needs a person."""

    permission_classes = [IsViewer]

    @extend_schema(responses={200: HealthOutput, 503: HealthOutput})
    def get(self, request):
        report = selectors.executor_health()
        return Response(report, status=200 if report["ok"] else 503)
