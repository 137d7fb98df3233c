from celery import shared_task

from executor.models import ExchangeAccount
from portfolio import selectors


@shared_task(soft_time_limit=60, time_limit=90, ignore_result=True)
def read_venue(account_id: int, what: str) -> None:
    """Read a browser account's positions, balances or a last price in the worker that owns the
    account (routed to its queue) and leave the answer in the cache for the pages."""
    account = ExchangeAccount.objects.filter(pk=account_id).first()
    if account is not None:
        selectors.venue_read_now(account, what)
