import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from signals.models import PRICE
from tradedesk.choices import Side
from tradedesk.formatting import number
from tradedesk.history import HistoryManager


class OrderType(models.TextChoices):
    MARKET = "MARKET"
    LIMIT = "LIMIT"


class OrderStatus(models.TextChoices):
    SUBMITTING = "SUBMITTING"
    # Sent, but the venue's answer was lost: settled only by looking the order up at the venue.
    UNKNOWN = "UNKNOWN"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


# Orders that may still reach, or have reached, the venue: they count toward limits and
# block a second order from the same signal.
IN_FLIGHT_STATUSES = (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN)
LIVE_STATUSES = (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN, OrderStatus.SUCCESS)
# The orders board's and API's name for UNKNOWN orders waiting for a person (needs_review).
NEEDS_REVIEW = "NEEDS_REVIEW"


class VenueState(models.TextChoices):
    """Where an accepted (SUCCESS) order is in its life at the venue (executor.connectors.base.VenueState).

    Empty until the venue has said. A cancel the desk asked for and the venue has not answered yet
    is not a venue state: it is `cancel_requested_at` on the order (shown as CANCEL_REQUESTED)."""

    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"


FINAL_VENUE_STATES = (VenueState.FILLED, VenueState.CANCELED, VenueState.EXPIRED, VenueState.REJECTED)
# Accepted orders still resting at the venue: tracked until final, and cancelable.
OPEN_VENUE_STATES = ("", VenueState.OPEN, VenueState.PARTIALLY_FILLED)


def new_client_order_id() -> str:
    return f"td-{uuid.uuid4().hex}"


class OrderQuerySet(models.QuerySet):
    def in_flight(self) -> "OrderQuerySet":
        """Orders in IN_FLIGHT_STATUSES; reached from a signal as `signal.orders.in_flight()`,
        so signals need not import this app (signals sit below orders)."""
        return self.filter(status__in=IN_FLIGHT_STATUSES)


class Order(models.Model):
    # Empty for copy-trading orders, which come from a follower's settings instead of a signal.
    signal = models.ForeignKey("signals.Signal", null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    follow_settings = models.ForeignKey(
        "following.FollowSettings", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    symbol = models.CharField(max_length=32, db_index=True)
    side = models.CharField(max_length=4, choices=Side.choices)
    order_type = models.CharField(max_length=10, choices=OrderType.choices)
    price = models.DecimalField(**PRICE, null=True, blank=True, help_text="Limit price; empty for MARKET.")
    qty = models.DecimalField(**PRICE)
    # The price the risk check used for notional (limit price, else the last known price).
    reference_price = models.DecimalField(**PRICE, null=True, blank=True)
    status = models.CharField(max_length=12, choices=OrderStatus.choices, default=OrderStatus.SUBMITTING)

    # Written with the row, before any venue call: the venue knows the order by this id,
    # so an unknown outcome is settled by looking it up, never by placing again.
    client_order_id = models.CharField(max_length=64, unique=True, default=new_client_order_id, editable=False)
    exchange_order_id = models.CharField(max_length=128, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    screenshot = models.CharField(max_length=300, blank=True, help_text="Screenshot of a failed placement.")
    trace = models.CharField(max_length=300, blank=True, help_text="Playwright trace of a failed placement.")
    filled_qty = models.DecimalField(**PRICE, null=True, blank=True)
    avg_fill_price = models.DecimalField(**PRICE, null=True, blank=True)
    venue_state = models.CharField(max_length=20, choices=VenueState.choices, blank=True, db_index=True)
    fee = models.DecimalField(**PRICE, null=True, blank=True, help_text="Total fees so far, in fee_asset.")
    fee_asset = models.CharField(max_length=16, blank=True)
    # The desk asked the venue to cancel and has not recorded its answer yet (CANCEL_REQUESTED).
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_checked_at = models.DateTimeField(null=True, blank=True, help_text="Last time the venue was asked.")

    # UNKNOWN and no lookup can settle it: a person says whether the order was placed.
    needs_review = models.BooleanField(default=False, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    venue = models.CharField(max_length=40, help_text="How the order is placed: dry_run, api or browser.")
    exchange_account = models.ForeignKey(
        "executor.ExchangeAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    is_additional = models.BooleanField(
        default=False, help_text="The trader explicitly asked for another order on the same signal."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    placement_started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrderQuerySet.as_manager()
    history = HistoricalRecords(history_manager=HistoryManager)  # two audit rows per order: tradedesk/history.py

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["symbol", "created_at"]), models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(qty__gt=0), name="order_qty_positive"),
            models.CheckConstraint(
                condition=models.Q(order_type="MARKET", price__isnull=True) | models.Q(order_type="LIMIT", price__gt=0),
                name="order_price_matches_type",
            ),
            # A follower has at most one order in flight per symbol: a second sync cycle (or a
            # second beat started by mistake) can never order the same difference twice.
            models.UniqueConstraint(
                fields=["follow_settings", "symbol"],
                condition=models.Q(follow_settings__isnull=False, status__in=["SUBMITTING", "UNKNOWN"]),
                name="one_follower_order_in_flight",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.side} {number(self.qty)} {self.symbol} ({self.status})"

    @property
    def latency_ms(self) -> int | None:
        if self.completed_at is None:
            return None
        return int((self.completed_at - self.created_at).total_seconds() * 1000)

    @property
    def notional(self) -> Decimal | None:
        return None if self.reference_price is None else self.reference_price * self.qty

    @property
    def is_open_at_venue(self) -> bool:
        """Accepted and not final at the venue: tracked by refreshes, and cancelable there."""
        return self.status == OrderStatus.SUCCESS and self.venue_state in OPEN_VENUE_STATES

    @property
    def cancel_requested(self) -> bool:
        return self.cancel_requested_at is not None and self.is_open_at_venue

    @property
    def stage(self) -> str:
        """One word for the order's place in its life: the placement status until the venue
        accepted it, then the venue state (CANCEL_REQUESTED while a cancel is under way)."""
        if self.status != OrderStatus.SUCCESS:
            return self.status
        if self.cancel_requested:
            return "CANCEL_REQUESTED"
        return self.venue_state or "ACCEPTED"


class Fill(models.Model):
    """One trade at the venue for one order. The venue's trade id is unique per order, so a fill
    seen by two refreshes (or by placement and a refresh) is recorded once."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="fills")
    trade_id = models.CharField(max_length=128)
    qty = models.DecimalField(**PRICE)
    price = models.DecimalField(**PRICE)
    fee = models.DecimalField(**PRICE, default=Decimal("0"))
    fee_asset = models.CharField(max_length=16, blank=True)
    time = models.DateTimeField(help_text="When the venue executed it (else when the desk saw it).")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(history_manager=HistoryManager)

    class Meta:
        ordering = ["time", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "trade_id"], name="fill_unique_trade_per_order"),
            models.CheckConstraint(condition=models.Q(qty__gt=0), name="fill_qty_positive"),
        ]

    def __str__(self) -> str:
        return f"fill {self.trade_id} of order #{self.order_id}: {self.qty} @ {self.price}"

    @property
    def notional(self) -> Decimal:
        return self.qty * self.price


class RiskLimit(models.Model):
    """Per-symbol limits set in admin; an empty field falls back to the settings default."""

    symbol = models.CharField(max_length=32, unique=True)
    max_order_qty = models.DecimalField(**PRICE, null=True, blank=True)
    max_daily_qty = models.DecimalField(**PRICE, null=True, blank=True)
    max_daily_notional = models.DecimalField(**PRICE, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["symbol"]

    def __str__(self) -> str:
        return self.symbol
