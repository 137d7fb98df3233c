"""The paper exchange's own schema: accounts, sessions, keys, instruments, balances, orders, faults.

Nothing here points at the desk's users: a paper account is an exchange identity of its own.
"""

from decimal import Decimal

from django.db import models
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from executor import crypto
from tradedesk.choices import Side

MONEY = {"max_digits": 28, "decimal_places": 10}


class PaperAccount(models.Model):
    username = models.CharField(max_length=50, unique=True)
    password = models.CharField(max_length=128, help_text="A Django password hash, never the password.")
    # The exchange must read the seed back to check codes, as any TOTP server must, so it is
    # encrypted (executor.crypto, CREDENTIALS_KEYS), never stored in clear; it leaves the server
    # only once, printed by paper_create_account.
    totp_secret_encrypted = models.TextField()
    # The time step of the last code that opened a session: a code is good once (RFC 6238 §5.2).
    totp_last_step = models.BigIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    pro_two_factor = models.BooleanField(
        default=False,
        help_text="The pro site (/paper/pro/) asks for the TOTP code at login; the classic pages always do.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username

    @property
    def totp_secret(self) -> str:
        return crypto.decrypt(self.totp_secret_encrypted).get("totp_secret", "")

    @staticmethod
    def encrypt_totp_secret(secret: str) -> str:
        return crypto.encrypt({"totp_secret": secret})


class PaperSession(models.Model):
    """A web login; the `paper_session` cookie holds the signed token, the row holds its hash."""

    account = models.ForeignKey(PaperAccount, on_delete=models.CASCADE, related_name="sessions")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"session {self.pk} of {self.account_id}"


class PaperApiKey(AbstractAPIKey):
    """`X-PAPER-KEY`: stored hashed, looked up by prefix (djangorestframework-api-key)."""

    objects = APIKeyManager()
    account = models.ForeignKey(PaperAccount, on_delete=models.CASCADE, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "paper API key"
        verbose_name_plural = "paper API keys"


class PaperBinanceKey(models.Model):
    """An API key and secret for the Binance-style API (/paper/binance/api/v3/...).

    The key is looked up by its SHA-256; the secret signs requests (HMAC-SHA256), so the exchange
    must read it back: it is stored encrypted (executor.crypto), never in clear, and shown once.
    """

    account = models.ForeignKey(PaperAccount, on_delete=models.CASCADE, related_name="binance_keys")
    name = models.CharField(max_length=50, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    key_prefix = models.CharField(max_length=8, help_text="The key's first characters, to tell keys apart.")
    secret_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "paper Binance API key"
        verbose_name_plural = "paper Binance API keys"

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.account_id})"

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.secret_encrypted).get("secret", "")


class PaperInstrument(models.Model):
    symbol = models.CharField(max_length=20, unique=True, help_text="BASE-QUOTE, e.g. BTC-USDT.")
    base_asset = models.CharField(max_length=10)
    quote_asset = models.CharField(max_length=10)
    tick_size = models.DecimalField(**MONEY)
    lot_size = models.DecimalField(**MONEY, help_text="Quantity step.")
    min_qty = models.DecimalField(**MONEY)
    start_price = models.DecimalField(**MONEY, help_text="Where the random walk starts.")
    volatility = models.DecimalField(
        **MONEY, default=Decimal("0.0001"), help_text="Standard deviation of one step's log return."
    )
    seed = models.CharField(max_length=50, default="paper", help_text="Same seed and step give the same price.")
    override_price = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="A fixed mark price for tests and demos; empty = the walk."
    )
    # Bumped by every paper_price_set, so setting the same price again is a new round of liquidity.
    override_round = models.PositiveIntegerField(default=0)
    min_notional = models.DecimalField(
        **MONEY, default=Decimal("0"), help_text="Smallest qty x price of an order, in the quote asset; 0 = none."
    )
    liquidity = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        help_text="Most base qty that trades at one mark (a walk step or an override); empty = unlimited.",
    )
    # What has traded in the current round: the round's key ("o<override_round>" or "w<step>") and the qty.
    liquidity_round = models.CharField(max_length=30, blank=True)
    liquidity_used = models.DecimalField(**MONEY, default=Decimal("0"))
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["symbol"]

    def __str__(self) -> str:
        return self.symbol


class PaperBalance(models.Model):
    account = models.ForeignKey(PaperAccount, on_delete=models.CASCADE, related_name="balances")
    asset = models.CharField(max_length=10)
    free = models.DecimalField(**MONEY, default=Decimal("0"))
    locked = models.DecimalField(**MONEY, default=Decimal("0"))

    class Meta:
        ordering = ["account_id", "asset"]
        constraints = [
            models.UniqueConstraint(fields=["account", "asset"], name="paper_balance_per_asset"),
            models.CheckConstraint(condition=models.Q(free__gte=0, locked__gte=0), name="paper_balance_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.asset} {self.free}/{self.locked}"


class PaperPosition(models.Model):
    """Base-asset holdings bought through one symbol, with their average entry price."""

    account = models.ForeignKey(PaperAccount, on_delete=models.CASCADE, related_name="positions")
    symbol = models.CharField(max_length=20)
    qty = models.DecimalField(**MONEY, default=Decimal("0"))
    avg_price = models.DecimalField(**MONEY, null=True, blank=True)

    class Meta:
        ordering = ["account_id", "symbol"]
        constraints = [models.UniqueConstraint(fields=["account", "symbol"], name="paper_position_per_symbol")]

    def __str__(self) -> str:
        return f"{self.symbol} {self.qty}"


# The paper venue takes the same two sides as the desk: one class, so a ticket's side is its own.
OrderSide = Side


class OrderType(models.TextChoices):
    MARKET = "MARKET"
    LIMIT = "LIMIT"


class OrderStatus(models.TextChoices):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


OPEN_STATUSES = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class TimeInForce(models.TextChoices):
    GTC = "GTC", "Good till canceled"
    IOC = "IOC", "Immediate or cancel: what cannot fill at once expires"
    FOK = "FOK", "Fill or kill: fills whole at once or expires"


class RejectCode(models.TextChoices):
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    BELOW_MIN_QTY = "BELOW_MIN_QTY"
    INVALID_QTY_STEP = "INVALID_QTY_STEP"
    INVALID_TICK = "INVALID_TICK"
    BELOW_MIN_NOTIONAL = "BELOW_MIN_NOTIONAL"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"


class PaperOrder(models.Model):
    account = models.ForeignKey(PaperAccount, on_delete=models.CASCADE, related_name="orders")
    client_order_id = models.CharField(max_length=64)
    # Not a foreign key: an order for an unknown symbol is recorded too, as REJECTED.
    symbol = models.CharField(max_length=20)
    side = models.CharField(max_length=4, choices=OrderSide.choices)
    order_type = models.CharField(max_length=6, choices=OrderType.choices)
    qty = models.DecimalField(**MONEY)
    price = models.DecimalField(**MONEY, null=True, blank=True)
    time_in_force = models.CharField(max_length=3, choices=TimeInForce.choices, blank=True, help_text="LIMIT only.")
    # A MARKET order sized by what it spends (Binance's quoteOrderQty); qty is then what that bought.
    quote_order_qty = models.DecimalField(**MONEY, null=True, blank=True)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, db_index=True)
    filled_qty = models.DecimalField(**MONEY, default=Decimal("0"))
    filled_quote = models.DecimalField(**MONEY, default=Decimal("0"), help_text="Sum of qty x price of its fills.")
    avg_price = models.DecimalField(**MONEY, null=True, blank=True)
    fee = models.DecimalField(**MONEY, default=Decimal("0"), help_text="Sum of its fills' fees, in fee_asset.")
    fee_asset = models.CharField(max_length=10, blank=True)
    reject_code = models.CharField(max_length=40, blank=True)
    reject_reason = models.CharField(max_length=200, blank=True)
    # What a resting order holds back: quote for a BUY, base for a SELL.
    locked_asset = models.CharField(max_length=10, blank=True)
    locked_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "client_order_id"], name="paper_client_order_id_per_account")
        ]

    def __str__(self) -> str:
        return self.order_id

    @property
    def order_id(self) -> str:
        return f"P-{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining_qty(self) -> Decimal:
        return self.qty - self.filled_qty


class PaperTrade(models.Model):
    """One execution (fill) of an order; an order has as many as the liquidity split it into."""

    account = models.ForeignKey(PaperAccount, on_delete=models.CASCADE, related_name="trades")
    order = models.ForeignKey(PaperOrder, on_delete=models.CASCADE, related_name="trades")
    symbol = models.CharField(max_length=20)
    side = models.CharField(max_length=4, choices=OrderSide.choices)
    qty = models.DecimalField(**MONEY)
    price = models.DecimalField(**MONEY)
    quote_qty = models.DecimalField(**MONEY, help_text="qty x price, in the quote asset.")
    fee = models.DecimalField(**MONEY)
    fee_asset = models.CharField(max_length=10)
    is_maker = models.BooleanField(help_text="Filled while resting on the book (maker) or on arrival (taker).")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "symbol", "id"], name="paper_trade_account_symbol")]

    def __str__(self) -> str:
        return self.trade_id

    @property
    def trade_id(self) -> str:
        return f"T-{self.pk:06d}"


class FaultKind(models.TextChoices):
    SLOW = "slow", "Slow: delay pages and API calls by VALUE ms"
    SESSION_EXPIRED = "session_expired", "Session expired: web sessions end; off after the next login"
    CAPTCHA = "captcha", "Captcha: every page shows a challenge"
    REJECT = "reject", "Reject: orders are rejected with VALUE (CODE or CODE:reason)"
    LAYOUT_CHANGED = "layout_changed", "Layout changed: the trade page's ids are renamed"
    LOST_REPLY = "lost_reply", "Lost reply: orders are placed but the reply hangs VALUE s, then errors"
    LOST_CANCEL_REPLY = "lost_cancel_reply", "Lost cancel reply: cancels go through, the reply hangs VALUE s"
    STALE_TOAST = "stale_toast", "Stale toast (pro site): a refused order shows the previous order's toast"
    RATE_LIMITED = "rate_limited", "Rate limited (Binance API): signed calls answer 429 with Retry-After VALUE s"


class PaperFault(models.Model):
    """A fault injected into one account, for tests and drills."""

    account = models.ForeignKey(PaperAccount, on_delete=models.CASCADE, related_name="faults")
    kind = models.CharField(max_length=20, choices=FaultKind.choices)
    value = models.CharField(max_length=200, blank=True)
    once = models.BooleanField(default=False, help_text="Turn off after firing once.")
    is_active = models.BooleanField(default=True)
    armed_at = models.DateTimeField(help_text="When it was last turned on.")
    fired_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account_id", "kind"]
        constraints = [models.UniqueConstraint(fields=["account", "kind"], name="paper_fault_per_kind")]

    def __str__(self) -> str:
        state = "on" if self.is_active else "off"
        return f"{self.kind} ({state})"
