from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from executor import crypto
from executor.connectors.base import AccountConfig

SECRET_FIELDS = ("api_key", "api_secret", "passphrase", "web_username", "web_password", "totp_secret")


class ConnectorKind(models.TextChoices):
    BROWSER = "browser", "Browser (exchange website)"
    API = "api", "Exchange API (paper exchange's own)"
    CCXT = "ccxt", "Exchange API through ccxt (binance, bybit, okx, kraken...)"
    DRY_RUN = "dry_run", "Dry run (no venue)"


class AccountHealth(models.TextChoices):
    UNKNOWN = "unknown", "Not checked yet"
    OK = "ok", "OK"
    # The venue refused the keys (or their permissions), or the clocks disagree: a person must act.
    NEEDS_PERSON = "needs_person", "Needs a person"


class ExchangeAccount(models.Model):
    """One account at one venue, and how the desk reaches it. Secrets are encrypted at rest."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exchange_accounts")
    label = models.CharField(max_length=100)
    venue = models.CharField(max_length=50, help_text="Exchange profile name, e.g. paper.")
    connector = models.CharField(max_length=10, choices=ConnectorKind.choices, default=ConnectorKind.API)
    base_url = models.URLField(blank=True, help_text="Where the venue is; empty = the profile's default.")
    exchange_id = models.CharField(
        max_length=40, blank=True, help_text="ccxt accounts: the ccxt exchange id (binance, bybit, okx, kraken...)."
    )
    sandbox = models.BooleanField(default=False, help_text="ccxt accounts: trade on the exchange's testnet.")
    browser_queue = models.CharField(
        max_length=60,
        blank=True,
        help_text="Browser accounts: the queue of the one browser worker that owns this account; "
        "empty = the default browser queue.",
    )
    health = models.CharField(max_length=12, choices=AccountHealth.choices, default=AccountHealth.UNKNOWN)
    health_detail = models.CharField(max_length=300, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    secrets_encrypted = models.TextField(blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    # The desk's own ways into a venue (the demo's browser, API and ccxt accounts into one paper
    # account): never offered to its owner as a copy-trading follower or master account.
    is_desk_account = models.BooleanField(
        default=False, help_text="Used by the desk itself: never offered for copy trading."
    )
    is_desk_default = models.BooleanField(
        default=False, help_text="Desk orders go to this account (when EXECUTOR=exchange). At most one."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The audit keeps who changed what, but never the secrets, not even encrypted.
    history = HistoricalRecords(excluded_fields=["secrets_encrypted"])

    class Meta:
        ordering = ["owner_id", "label"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "label"], name="exchange_account_label_per_owner"),
            models.UniqueConstraint(
                fields=["is_desk_default"], condition=models.Q(is_desk_default=True), name="one_desk_default_account"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.venue}, {self.connector})"

    def get_secrets(self) -> dict[str, str]:
        return crypto.decrypt(self.secrets_encrypted)

    def set_secrets(self, **values: str) -> None:
        """Merge `values` into the stored secrets; an empty string removes one."""
        unknown = set(values) - set(SECRET_FIELDS)
        if unknown:
            raise ValueError(f"unknown secret field(s): {', '.join(sorted(unknown))}")
        current = self.get_secrets()
        current.update(values)
        self.secrets_encrypted = crypto.encrypt({key: value for key, value in current.items() if value})

    def config(self) -> AccountConfig:
        """What a connector gets: plain values, no ORM object."""
        return AccountConfig(
            label=self.label,
            venue=self.venue,
            base_url=self.base_url,
            secrets=self.get_secrets(),
            key=str(self.pk),
            exchange_id=self.exchange_id,
            sandbox=self.sandbox,
        )

    def masked_secrets(self) -> dict[str, str]:
        return {key: crypto.mask(value) for key, value in self.get_secrets().items()}


class SessionState(models.TextChoices):
    LOGGED_IN = "logged_in", "Logged in"
    NEEDS_LOGIN = "needs_login", "Needs login"
    CAPTCHA = "captcha", "Captcha: a person must solve it"
    DOWN = "down", "Browser down"


class VenueSession(models.Model):
    """The browser session's last known state per account, written by the browser worker so the
    web process (health endpoint, admin) can show it."""

    account = models.OneToOneField(ExchangeAccount, on_delete=models.CASCADE, related_name="venue_session")
    state = models.CharField(max_length=12, choices=SessionState.choices, default=SessionState.DOWN)
    detail = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.account}: {self.state}"
