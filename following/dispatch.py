"""The follower sync as Celery tasks any number of workers, on any number of hosts, can run.

- Beat (`tasks.sync_followers`, every FOLLOW_SYNC_EVERY seconds) queues one `sync_master` poll
  per master account with active followers: one position read of the master; its followers are
  synced when the positions differ from those its last full sync read, or when that sync is
  FULL_SYNC_EVERY seconds old (follows changed meanwhile, venue rechecks). So beat may poll
  external masters at a short interval: a quiet poll is one venue read, no database write.
- A master account the desk trades queues its `sync_master` at once when an order on it is
  accepted (orders' "order accepted" hook, after the commit): its followers follow in
  milliseconds, not at the next beat.
- `sync_master` evaluates up to FOLLOW_SYNC_BATCH follower accounts itself and queues the rest
  as `sync_follower_batch` tasks carrying the master positions it read (following/batches.py),
  so a master with thousands of followers is spread over every worker.

One sync per master at a time (a lock per master in the shared cache); a master change during a
running sync queues one more sync after it. Nothing here is the guarantee against a second order:
each follower is evaluated under its own lock, and the database's one_follower_order_in_flight
constraint refuses a second order in flight for one follower and symbol, whatever the tasks do.
"""

import logging
import time
from datetime import datetime

from celery import signature
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from executor.models import ExchangeAccount
from executor.selectors import task_queue_for
from following import batches, sync, venue
from following.models import FollowSettings

logger = logging.getLogger(__name__)

QUEUED = "following:master-queued:{}"
AGAIN = "following:master-again:{}"
# Queued by name (a Celery signature): following.tasks imports this module.
MASTER_TASK = "following.tasks.sync_master"
# A poll finding a master unchanged skips its followers for at most this long after its last
# full sync. With the default beat (FOLLOW_SYNC_EVERY 2 s) every poll is a full sync, as before;
# a shorter beat makes the polls in between one position read each, while a new follow, a
# ratio changed or an error resolved still waits no longer than with the default.
FULL_SYNC_EVERY = 2.0


def masters_to_sync() -> list[int]:
    """Master accounts with at least one active follow (one query)."""
    rows = FollowSettings.objects.filter(is_active=True).values_list("master_credential_id", flat=True)
    return sorted(set(rows.distinct()))


def enqueue_master_sync(master_id: int, *, poll: bool = False, prices: dict[str, str] | None = None) -> bool:
    """Queue a sync of one master unless one is queued and not started yet (that one will read
    the newest positions). The mark expires, so a task lost with its worker blocks nothing.
    `poll` (beat's): the sync first checks whether the master's positions changed. `prices`
    (symbol -> the master's fill price, from its accepted order): the slippage guard's price,
    not read again at the venue."""
    if not cache.add(QUEUED.format(master_id), 1, timeout=max(5, int(settings.FOLLOW_SYNC_EVERY * 5))):
        return False
    args = (master_id, poll, prices) if prices else (master_id, poll) if poll else (master_id,)
    signature(MASTER_TASK).apply_async(args, queue=task_queue_for(None))
    return True


def follow_sync_dispatch() -> int:
    """Beat's part: one sync poll per master with active followers. Returns how many were queued."""
    return sum(enqueue_master_sync(master_id, poll=True) for master_id in masters_to_sync())


def follow_sync_master(master_id: int, *, poll: bool = False, prices: dict[str, str] | None = None):
    """One master's sync (the `sync_master` task). A sync finding another of the same master
    running asks it for one more round, so a change it could not see is not left to the beat.
    A poll that finds the master unchanged since its last full sync returns None (no cycle).
    `prices`: the master's fill prices its accepted order gave (see enqueue_master_sync)."""
    cache.delete(QUEUED.format(master_id))  # from now on a change queues a new sync
    snapshot = None
    if poll:
        unchanged, snapshot = _poll(master_id)
        if unchanged:
            return None
    run = sync.follow_sync_cycle(master_id=master_id, snapshot=snapshot, prices=prices)
    if run.outcome == run.Outcome.SKIPPED:
        cache.set(AGAIN.format(master_id), 1, timeout=settings.FOLLOW_SYNC_LOCK_SECONDS)
    elif cache.delete(AGAIN.format(master_id)):
        enqueue_master_sync(master_id)
    return run


def _poll(master_id: int) -> tuple[bool, venue.MasterSnapshot | None]:
    """The master's positions (one venue read): (unchanged since its last full sync and that
    sync younger than FULL_SYNC_EVERY, the snapshot for the cycle). A failed read is no
    snapshot: the cycle reads again and records the problem."""
    account = ExchangeAccount.objects.filter(pk=master_id).first()
    if account is None:
        return False, None
    try:
        snapshot = venue.master_snapshot(account)
    except Exception:
        return False, None
    seen = batches.master_last_seen(master_id)
    # Half a beat of slack: with beat every FULL_SYNC_EVERY seconds, each poll (a beat after the
    # last one, whose full sync finished a little later) is a full sync.
    fresh = seen is not None and time.time() - seen["at"] < FULL_SYNC_EVERY - settings.FOLLOW_SYNC_EVERY / 2
    return fresh and seen["fingerprint"] == snapshot.fingerprint, snapshot


def follow_sync_batch(payload: dict, now: str):
    return sync.follow_sync_cycle(now=datetime.fromisoformat(now), batch=batches.Batch.from_payload(payload))


def master_order_accepted(order) -> None:
    """orders' hook: a desk order on an account that has active followers was accepted: queue
    its followers' sync once the order's result commits (the copy latency of issue 15)."""
    if order.follow_settings_id is not None or order.exchange_account_id is None:
        return
    account_id = order.exchange_account_id
    if FollowSettings.objects.filter(master_credential_id=account_id, is_active=True).exists():
        # The venue's answer gave the master's fill price: the followers' slippage guard copies
        # it (the price the guard means) instead of reading the last price before their orders.
        price = order.avg_fill_price
        prices = {order.symbol: str(price)} if price else None
        transaction.on_commit(lambda: enqueue_master_sync(account_id, prices=prices))
