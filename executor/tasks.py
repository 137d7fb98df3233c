"""Scheduled work on exchange accounts: health (keys, clock). Their instruments (venue rules)
are refreshed by orders.tasks.refresh_instruments, next to the rules that use them."""

import logging

from celery import shared_task

from executor.selectors import api_account_ids
from executor.services import exchange_account_check

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=120, time_limit=150)
def check_accounts() -> None:
    """Check every API account's keys and clock (beat) and record its health."""
    for account_id in api_account_ids():
        try:
            exchange_account_check(account_id=account_id)
        except Exception:
            logger.exception("account check of %s failed", account_id)
