from django.conf import settings
from django.db import models

from signals.models import PRICE


class RefusalCategory(models.TextChoices):
    RISK = "risk", "Risk rule"
    VENUE = "venue", "Venue check"
    STATE = "state", "Illegal state"
    INPUT = "input", "Bad input"


class ConfirmRefusal(models.Model):
    """A confirm the desk refused (seed 001 §9.3: rejections kept with their reasons).

    Written after the refused transaction rolled back, so the refusal survives it. Append-only:
    nothing edits a refusal, so it needs no history of its own.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    signal = models.ForeignKey(
        "signals.Signal", null=True, blank=True, on_delete=models.SET_NULL, related_name="confirm_refusals"
    )
    # The id asked for, kept even when no such signal exists (a refusal of its own).
    signal_ref = models.BigIntegerField(null=True, blank=True)
    symbol = models.CharField(max_length=32, blank=True, db_index=True)
    side = models.CharField(max_length=4, blank=True)
    order_type = models.CharField(max_length=10, blank=True)
    qty = models.DecimalField(**PRICE, null=True, blank=True)
    price = models.DecimalField(**PRICE, null=True, blank=True)
    category = models.CharField(max_length=10, choices=RefusalCategory.choices, db_index=True)
    rule = models.CharField(max_length=60, db_index=True, help_text="The refusal's code, e.g. risk_max_daily_qty.")
    field = models.CharField(max_length=40, blank=True, help_text="The input the refusal names.")
    message = models.TextField()
    http_status = models.PositiveSmallIntegerField()
    figures = models.JSONField(default=dict, blank=True, help_text="The numbers the rule compared.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["rule", "created_at"])]

    def __str__(self) -> str:
        return f"refusal #{self.pk} {self.rule} (signal {self.signal_ref})"
