"""The follower's own notification settings: GET/PUT /api/v1/follow-config/notifications.

Always the caller's own: there is no id in the path. The channels are secrets: write-only,
answered masked (the URL's scheme and last 4 characters, the address's domain)."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from following import notify
from following.models import NotifyEvent


class NotifySettingsOutput(serializers.Serializer):
    apprise_url = serializers.CharField(help_text="Masked: scheme and last 4 characters; empty when not set.")
    email = serializers.CharField(help_text="Masked: the address's domain; empty when not set.")
    events = serializers.ListField(child=serializers.ChoiceField(choices=NotifyEvent.choices))
    email_available = serializers.BooleanField(help_text="Whether this desk can send email (FOLLOW_NOTIFY_EMAIL_URL).")


def _output(row) -> dict:
    return {
        **notify.masked_channels(row),
        "events": list(row.events) if row else [],
        "email_available": bool(settings.FOLLOW_NOTIFY_EMAIL_URL),
    }


class NotifySettingsApi(APIView):
    """GET: your notification settings (masked). PUT/PATCH: change them; a field left out keeps its
    value, an empty string removes that channel."""

    class NotifySettingsInput(serializers.Serializer):
        apprise_url = serializers.CharField(
            max_length=notify.MAX_URL_LENGTH,
            required=False,
            allow_blank=True,
            help_text="An apprise URL of your own (json://, tgram://, slack://, discord://...).",
        )
        email = serializers.CharField(max_length=254, required=False, allow_blank=True)
        events = serializers.ListField(
            child=serializers.ChoiceField(choices=NotifyEvent.choices), required=False, max_length=len(NotifyEvent)
        )

    @extend_schema(responses={200: NotifySettingsOutput})
    def get(self, request):
        return Response(NotifySettingsOutput(_output(notify.notify_settings_get(user=request.user))).data)

    @extend_schema(request=NotifySettingsInput, responses={200: NotifySettingsOutput})
    def put(self, request):
        serializer = self.NotifySettingsInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = notify.notify_settings_update(user=request.user, **serializer.validated_data)
        return Response(NotifySettingsOutput(_output(row)).data)

    @extend_schema(request=NotifySettingsInput, responses={200: NotifySettingsOutput})
    def patch(self, request):
        return self.put(request)
