"""Each worker process reads every followed master once as it starts, in the background
(Celery's worker_process_init): the master's connector is built there (a ccxt account's
instance, its markets loaded, the HTTP connection open), not by the first copy of a trade after
a worker start, which waited up to a second for it (bench/README.md). A read that fails is
logged and left to the first sync, which reads again and records the problem."""

import logging
import threading

from celery import signals
from django.db import connection

from executor.models import ExchangeAccount
from following import dispatch, venue

logger = logging.getLogger(__name__)


def masters_warm() -> int:
    """Read each active master account with active followers once. Returns how many were read."""
    read = 0
    try:
        for account in ExchangeAccount.objects.filter(pk__in=dispatch.masters_to_sync(), is_active=True):
            try:
                venue.master_snapshot(account)
                read += 1
            except Exception as exc:
                logger.warning("master account %s: not read at worker start: %s", account.pk, exc)
    finally:
        connection.close()  # this thread's own connection
    return read


@signals.worker_process_init.connect
def warm_in_background(**_) -> None:
    threading.Thread(target=masters_warm, name="follow-warm", daemon=True).start()
