from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey
from simple_history.models import HistoricalRecords


class UserToken(AbstractAPIKey):
    """A personal API token for a desk user (trader scripts, the strategy of a user).

    Stored hashed like strategy API keys; sent as `Authorization: Bearer <token>`.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    # Revocations are audited (who deactivated the user); the history holds the hash, never the token.
    history = HistoricalRecords()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "user API token"
        verbose_name_plural = "user API tokens"
