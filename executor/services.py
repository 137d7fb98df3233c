"""Writes to exchange accounts (credentials)."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from executor import crypto
from executor.health import exchange_account_health_record
from executor.models import ConnectorKind, ExchangeAccount
from executor.selectors import connector_for
from tradedesk.exceptions import Conflict, InvalidInput

logger = logging.getLogger(__name__)


def exchange_account_save(*, account: ExchangeAccount, secrets: dict[str, str] | None = None) -> ExchangeAccount:
    """Create or update an account; `secrets` holds only the secret fields being changed."""
    with transaction.atomic():
        if account.is_desk_default:
            # At most one desk default: marking this one unmarks the previous, audited.
            others = ExchangeAccount.objects.select_for_update().filter(is_desk_default=True).exclude(pk=account.pk)
            for other in others:
                other.is_desk_default = False
                other._change_reason = f"desk default moved to {account.label}"
                other.save(update_fields=["is_desk_default", "updated_at"])
        if secrets:
            account.set_secrets(**secrets)
            account._change_reason = f"secrets changed: {', '.join(sorted(secrets))}"
        account.save()
    logger.info("exchange account %s saved (secrets changed: %s)", account.pk, sorted(secrets or {}))
    return account


def exchange_accounts_rotate_key() -> int:
    """Re-encrypt every account's secrets with the newest CREDENTIALS_KEYS key."""
    count = 0
    with transaction.atomic():
        for account in ExchangeAccount.objects.select_for_update().exclude(secrets_encrypted=""):
            account.secrets_encrypted = crypto.rotate(account.secrets_encrypted)
            account._change_reason = "credentials key rotated"
            account.save(update_fields=["secrets_encrypted", "updated_at"])
            count += 1
    return count


def exchange_account_check(*, account_id: int) -> None:
    """Ask the venue whether the account works (keys, clock) and record the answer."""
    account = ExchangeAccount.objects.get(pk=account_id)
    try:
        check = connector_for(account).check_account()
    except Exception as exc:
        logger.warning("account check of %s failed: %s", account_id, exc)
        check = None
    if check is None or (not check.ok and check.code not in ("AUTH_FAILED", "CLOCK_SKEW")):
        # The venue could not be asked: that says nothing about the keys; keep the last state.
        ExchangeAccount.objects.filter(pk=account_id).update(health_checked_at=timezone.now())
        return
    exchange_account_health_record(account_id=account_id, ok=check.ok, detail=check.detail)


def exchange_account_create(
    *,
    owner,
    label: str,
    connector: str,
    venue: str = "",
    exchange_id: str = "",
    sandbox: bool = False,
    base_url: str = "",
    secrets: dict[str, str] | None = None,
) -> ExchangeAccount:
    """A user's own exchange account for copy trading (API or ccxt), with its keys, encrypted.

    base_url is for venues that are not the exchange's own host (the bundled paper exchange's
    dialects): a user may point it only at an address in ACCOUNT_BASE_URLS_ALLOWED (default:
    the paper exchange), so the desk's workers are never sent to an address a user picked."""
    import ccxt  # here, not at the top: importing ccxt takes about a second, and only this needs it

    if connector not in (ConnectorKind.API, ConnectorKind.CCXT):
        raise InvalidInput("must be api (the paper exchange's JSON API) or ccxt", field="connector")
    exchange_id = exchange_id.strip().lower()
    if connector == ConnectorKind.CCXT and exchange_id not in ccxt.exchanges:
        raise InvalidInput("must be an exchange id ccxt knows (binance, bybit, okx, kraken...)", field="exchange_id")
    if connector == ConnectorKind.API:
        venue, exchange_id, sandbox = "paper", "", False
    allowed = [url.rstrip("/") for url in settings.ACCOUNT_BASE_URLS_ALLOWED]
    if base_url and not any(base_url.rstrip("/") == url or base_url.startswith(url + "/") for url in allowed):
        raise InvalidInput(f"must be empty or under one of: {', '.join(allowed) or '(none allowed)'}", field="base_url")
    if ExchangeAccount.objects.filter(owner=owner, label=label).exists():
        raise Conflict(f"you already have an exchange account labelled {label!r}", field="label", code="label_taken")
    account = ExchangeAccount(
        owner=owner,
        label=label,
        venue=venue or exchange_id,
        connector=connector,
        exchange_id=exchange_id,
        sandbox=sandbox,
        base_url=base_url,
    )
    account._change_reason = f"created by {owner.get_username()}"
    return exchange_account_save(account=account, secrets={k: v for k, v in (secrets or {}).items() if v})
