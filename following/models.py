"""Copy trading (seed 000): follow settings, the trade error ledger, masters open for following,
and a record of each sync cycle."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from tradedesk.formatting import decimal_text

RATIO = {"max_digits": 20, "decimal_places": 10}


class MasterAccount(models.Model):
    """An exchange account its owner has opened for following. Followers may only copy
    accounts listed here and open."""

    credential = models.OneToOneField(
        "executor.ExchangeAccount", on_delete=models.CASCADE, related_name="master_listing"
    )
    is_open = models.BooleanField(default=True, help_text="Closed: no new follower may choose it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.credential} ({'open' if self.is_open else 'closed'})"


class SyncOutcome(models.TextChoices):
    OK = "ok", "In sync"
    ORDERED = "ordered", "Orders placed"
    WAITING = "waiting", "Waiting for an order in flight"
    PAUSED = "paused", "Turned off or paused before the order"
    BELOW_MIN = "below_min", "Difference below the venue minimum"
    FAILED = "failed", "Failed"
    MASTER_UNAVAILABLE = "master_unavailable", "Master positions unavailable"
    VENUE_UNAVAILABLE = "venue_unavailable", "Venue's lot sizes unavailable"


class SizingMode(models.TextChoices):
    RATIO = "ratio", "Ratio of the master's quantity"
    EQUITY = "equity", "Proportional to equity (your equity / master's equity x ratio)"
    FIXED_NOTIONAL = "fixed_notional", "Fixed notional per master trade"


class JoinMode(models.TextChoices):
    NOW = "now", "Copy the master's current position now"
    CHANGES = "changes", "Copy only the master's changes from now on"


class UnfollowMode(models.TextChoices):
    KEEP = "keep", "Keep the copied positions"
    CLOSE = "close", "Close the copied positions"


MONEY = {"max_digits": 28, "decimal_places": 10}
DEFAULT_MAX_SLIPPAGE = "0.005"


class FollowSettings(models.Model):
    """One follow: a user copies one master account with one of their own accounts, at a ratio.

    A user may follow several masters (one row each, each with its own ratio, active flag, sizing,
    caps and slippage). The follows of one follower account add up per symbol: the first (lowest
    id) open follow of the account owns whatever the account holds beyond the others' copied
    positions, so a one-master follower is synced exactly as before (to master x ratio)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    master_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followers")
    master_credential = models.ForeignKey(
        "executor.ExchangeAccount", on_delete=models.PROTECT, related_name="followed_by"
    )
    follower_credential = models.ForeignKey(
        "executor.ExchangeAccount", on_delete=models.PROTECT, related_name="following_with"
    )
    follow_ratio = models.DecimalField(**RATIO, help_text="0.1 = 10% of the master's position.")
    is_active = models.BooleanField(default=True, db_index=True)
    # True only while a trade error holds following off: the error turned an active follower off.
    # Resolving the last error turns following back on only then, never after an off by hand.
    paused_by_error = models.BooleanField(
        default=False, help_text="Following was turned off by a trade error (it resumes when none is left)."
    )
    sizing_mode = models.CharField(max_length=20, choices=SizingMode.choices, default=SizingMode.RATIO)
    fixed_notional = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="fixed_notional mode: quote amount per master trade."
    )
    join_mode = models.CharField(max_length=10, choices=JoinMode.choices, default=JoinMode.NOW)
    # changes-only joining: the master's positions when the follow began (shrunk as the master
    # closes them), not copied. {symbol: qty}
    join_baseline = models.JSONField(default=dict, blank=True)
    max_slippage = models.DecimalField(
        max_digits=8, decimal_places=6, default=DEFAULT_MAX_SLIPPAGE,
        help_text="Follower orders are limits at the master's price +/- this fraction (0.005 = 0.5%).",
    )  # fmt: skip
    # Risk caps (empty = no cap). A breach pauses the follow with its own error type.
    max_order_notional = models.DecimalField(**MONEY, null=True, blank=True)
    max_position_notional = models.DecimalField(**MONEY, null=True, blank=True)
    max_trades_per_day = models.PositiveIntegerField(null=True, blank=True)
    max_loss = models.DecimalField(
        max_digits=8, decimal_places=6, null=True, blank=True,
        help_text="Fraction of the account's equity high-water mark (0.2 = pause at a 20% drawdown).",
    )  # fmt: skip
    allowed_symbols = models.JSONField(default=list, blank=True, help_text="Empty: every symbol.")
    equity_high_water = models.DecimalField(**MONEY, null=True, blank=True)
    # Unfollowed: the row stays (its orders and statistics keep their follow); kept positions
    # stay the follower's and are never synced again.
    ended_at = models.DateTimeField(null=True, blank=True)
    unfollow_mode = models.CharField(max_length=10, choices=UnfollowMode.choices, blank=True)
    kept_positions = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Sync state, written by the engine with queryset updates (not audited, not a setting).
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_outcome = models.CharField(max_length=20, choices=SyncOutcome.choices, blank=True)
    # Per symbol: master, target, own, difference and what was done, from the last evaluation.
    last_sync_detail = models.JSONField(default=dict, blank=True)
    # Master positions and ratio the follower was last found in sync with; the engine skips the
    # follower while they are unchanged (until FOLLOW_RECHECK_SECONDS passes).
    sync_fingerprint = models.CharField(max_length=64, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(
        excluded_fields=[
            "last_synced_at",
            "last_sync_outcome",
            "last_sync_detail",
            "sync_fingerprint",
            "last_checked_at",
            "equity_high_water",
        ]
    )

    class Meta:
        verbose_name_plural = "follow settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(follow_ratio__gt=0), name="follow_ratio_positive"),
            models.UniqueConstraint(
                fields=["user", "master_credential"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_follow_per_master",
            ),
            models.CheckConstraint(
                condition=models.Q(max_slippage__gte=0) & models.Q(max_slippage__lt=1), name="max_slippage_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} follows {self.master_user} x{decimal_text(self.follow_ratio)}"

    @property
    def ratio_text(self) -> str:
        return decimal_text(self.follow_ratio)


class ErrorType(models.TextChoices):
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    REJECTED = "REJECTED"
    NOT_FOUND_AT_VENUE = "NOT_FOUND_AT_VENUE"
    SESSION = "SESSION"
    CONNECTOR = "CONNECTOR"
    POSITIONS_UNAVAILABLE = "POSITIONS_UNAVAILABLE"
    INSTRUMENT_UNKNOWN = "INSTRUMENT_UNKNOWN"
    ORDER_REFUSED = "ORDER_REFUSED"
    INTERNAL = "INTERNAL"
    # A risk cap of the follow was reached (each its own type, as the issue asks).
    CAP_ORDER_NOTIONAL = "CAP_ORDER_NOTIONAL"
    CAP_POSITION_NOTIONAL = "CAP_POSITION_NOTIONAL"
    CAP_TRADES_PER_DAY = "CAP_TRADES_PER_DAY"
    CAP_MAX_LOSS = "CAP_MAX_LOSS"
    CAP_SYMBOL_NOT_ALLOWED = "CAP_SYMBOL_NOT_ALLOWED"


class TradeError(models.Model):
    """A follower's failure. While any is unresolved the follower is paused (is_active False)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trade_errors")
    # The follow it pauses (several follows of one user pause and resume on their own).
    follow_settings = models.ForeignKey(
        FollowSettings, null=True, blank=True, on_delete=models.CASCADE, related_name="trade_errors"
    )
    # The follower's order that failed (the seed's trade_log); empty when no order was made.
    trade_log = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="trade_errors"
    )
    error_type = models.CharField(max_length=50, choices=ErrorType.choices)
    error_message = models.TextField()
    error_details = models.JSONField(default=dict, blank=True)
    is_resolved = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user"], name="trade_error_user"),
            models.Index(fields=["created_at"], name="trade_error_created"),
            models.Index(fields=["user", "is_resolved"], name="trade_error_user_open"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.error_type} ({'resolved' if self.is_resolved else 'open'})"


class CopyTrade(models.Model):
    """The prices of one follower order against its master: the slippage guard's record."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="copy_trade")
    follow_settings = models.ForeignKey(FollowSettings, on_delete=models.CASCADE, related_name="copy_trades")
    master_price = models.DecimalField(**MONEY, null=True, blank=True, help_text="The master's fill price.")
    limit_price = models.DecimalField(**MONEY, null=True, blank=True)
    max_slippage = models.DecimalField(max_digits=8, decimal_places=6)
    # Signed fraction against the master's price, worse for the follower when positive; set
    # once the order has a fill price.
    slippage = models.DecimalField(max_digits=16, decimal_places=10, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"copy of order {self.order_id} (slippage {self.slippage})"


class SyncRun(models.Model):
    """One cycle of the follower sync, for the dashboard and the metrics collector."""

    class Outcome(models.TextChoices):
        RUNNING = "running"
        OK = "ok"
        PARTIAL = "partial", "Some followers or masters failed"
        FAILED = "failed"
        SKIPPED = "skipped", "Another cycle held the lock"

    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    masters_read = models.PositiveIntegerField(default=0)
    followers_synced = models.PositiveIntegerField(default=0, help_text="Followers evaluated against the venue.")
    followers_skipped = models.PositiveIntegerField(default=0, help_text="Unchanged since their last sync.")
    orders_placed = models.PositiveIntegerField(default=0)
    below_min = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"sync {self.started_at:%H:%M:%S} {self.outcome}"

    @property
    def duration_ms(self) -> int | None:
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)


class NotifyEvent(models.TextChoices):
    COPIED_TRADE = "copied_trade", "A trade was copied"
    FAILURE = "failure", "A copy failed (a trade error)"
    PAUSE = "pause", "Following was paused"
    RESUME = "resume", "Following resumed"


class FollowerNotifySettings(models.Model):
    """A user's own notifications of their copy trading (not the operator's ALERT_URLS): where to
    (an apprise URL of their own, and/or an email address sent through the desk's mail server)
    and which events. The URL and the address are secrets: stored encrypted (executor.crypto,
    like exchange credentials), never in the audit, masked in every answer."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follow_notify")
    channels_encrypted = models.TextField(blank=True, editable=False)
    events = models.JSONField(default=list, blank=True, help_text="NotifyEvent values; empty: none.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["channels_encrypted"])

    def __str__(self) -> str:
        return f"notifications of {self.user}"
