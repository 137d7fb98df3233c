"""Scheduled work on exchange accounts: instruments (venue rules) and health (keys, clock)."""

import logging

from celery import shared_task

from executor.models import ConnectorKind, ExchangeAccount

logger = logging.getLogger(__name__)

# Accounts reached through an API: a browser account's session has its own checks.
API_KINDS = (ConnectorKind.CCXT, ConnectorKind.API)


def _api_account_ids() -> list[int]:
    return list(ExchangeAccount.objects.filter(is_active=True, connector__in=API_KINDS).values_list("pk", flat=True))


@shared_task(soft_time_limit=120, time_limit=150)
def refresh_instruments() -> None:
    """Read every API account's trading rules again (beat), for the confirm-time venue checks."""
    from orders.venue_rules import instruments_refresh

    for account_id in _api_account_ids():
        try:
            instruments_refresh(account=ExchangeAccount.objects.get(pk=account_id))
        except Exception as exc:
            logger.warning("instruments of account %s not refreshed: %s", account_id, exc)


@shared_task(soft_time_limit=120, time_limit=150)
def check_accounts() -> None:
    """Check every API account's keys and clock (beat) and record its health."""
    from executor.services import exchange_account_check

    for account_id in _api_account_ids():
        try:
            exchange_account_check(account_id=account_id)
        except Exception:
            logger.exception("account check of %s failed", account_id)
