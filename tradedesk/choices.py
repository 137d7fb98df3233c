"""Choices more than one app stores: the same values everywhere, so rows compare as they are."""

from django.db import models


class Side(models.TextChoices):
    BUY = "BUY"
    SELL = "SELL"
