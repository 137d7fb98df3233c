from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from tradedesk.choices import Side
from tradedesk.formatting import number

PRICE = {"max_digits": 28, "decimal_places": 10}
POSITIVE = [MinValueValidator(Decimal("0.0000000001"))]


class SignalStatus(models.TextChoices):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    EXECUTED = "EXECUTED"
    CANCELED = "CANCELED"


ORDERABLE_STATUSES = (SignalStatus.PENDING, SignalStatus.ACCEPTED)


class Signal(models.Model):
    symbol = models.CharField(max_length=32, db_index=True)
    side = models.CharField(max_length=4, choices=Side.choices)
    suggest_price = models.DecimalField(**PRICE, null=True, blank=True, help_text="Empty means market.")
    suggest_qty = models.DecimalField(**PRICE, validators=POSITIVE)
    strategy_name = models.CharField(max_length=100, db_index=True)
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=SignalStatus.choices, default=SignalStatus.PENDING)

    # Who sent it, and the idempotency key that makes the sender's retries safe.
    api_key = models.ForeignKey(
        "rest_framework_api_key.APIKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_signal_id = models.CharField(max_length=128, null=True, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True, editable=False)

    decided_by = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            # One signal per idempotency key and sender, even for concurrent retries.
            models.UniqueConstraint(
                fields=["api_key", "client_signal_id"],
                condition=models.Q(client_signal_id__isnull=False),
                name="signal_unique_client_id_per_key",
            ),
            models.CheckConstraint(condition=models.Q(suggest_qty__gt=0), name="signal_qty_positive"),
            models.CheckConstraint(
                condition=models.Q(suggest_price__isnull=True) | models.Q(suggest_price__gt=0),
                name="signal_price_positive_or_market",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.side} {number(self.suggest_qty)} {self.symbol} ({self.status})"

    @property
    def is_orderable(self) -> bool:
        return self.status in ORDERABLE_STATUSES
