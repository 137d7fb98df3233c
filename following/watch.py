"""Masters' trades pushed by their venue: each one queues the master's followers' sync at once.

Beat's poll (following.dispatch) reads an external master's positions every FOLLOW_SYNC_EVERY
seconds, so a trade the master made by itself waits up to a beat before its followers follow.
A venue that pushes an account's executions (Binance's User Data Stream, through ccxt.pro: the
account connector's `execution_stream()`) says so the moment it happens. This process
(`manage.py follow_watch`, the Procfile's `watch`) keeps one stream per master account with
active followers whose connector offers one, and on each batch of the master's own trades
queues that master's sync (`enqueue_master_sync`, with the trades' prices for the slippage guard).

A master whose venue pushes nothing (the paper exchange's own API, a ccxt exchange ccxt.pro cannot
watch, a browser account read through its venue's API) is polled here instead, every
FOLLOW_WATCH_POLL seconds: one position read of the master (in a thread; no database read or
write), and a sync queued when its positions differ both from this watcher's previous read and
from those its last full sync saw. Beat's poll (every FOLLOW_SYNC_EVERY, 2 s by default) costs two
Celery tasks per master and poll, so it cannot poll this often; a ccxt account's reads are spaced
by ccxt's own rate limiter on the watcher's one instance per account (a venue's limits hold).

Nothing here is a guarantee, and nothing is lost without it: beat's poll goes on as before and
catches whatever a stream missed; a stream that breaks is reconnected with a growing pause and a
sync is queued on every reconnect (trades pushed while it was down are not replayed). Each
follower's lock and the database's one-order-in-flight constraint stay the only guards against
a second order. Trades of desk orders on the master are skipped: the desk's own "order accepted"
hook already queued their sync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from executor.connectors.base import Execution, ExecutionStream
from executor.models import ExchangeAccount
from executor.selectors import connector_for
from following import batches, dispatch, venue
from orders.models import Order

logger = logging.getLogger(__name__)


@dataclass
class Watched:
    task: asyncio.Task
    key: str


@dataclass
class Polled:
    account: ExchangeAccount  # replaced on every refresh: changed keys are read with the new ones
    task: asyncio.Task | None = None


# The polls' reads run in threads of their own: a master whose venue hangs holds one thread until
# its timeout, and the others' reads take new ones (asyncio's default pool has cpu + 4 threads,
# which a few hung venues would fill). Threads are started only as reads need them.
POLL_THREADS = 256


def streams_wanted() -> dict[int, ExecutionStream]:
    """A stream (not yet connected) for each master account with active followers whose venue
    pushes its trades."""
    return masters_wanted()[0]


def masters_wanted() -> tuple[dict[int, ExecutionStream], dict[int, ExchangeAccount]]:
    """The masters with active followers: a stream (not yet connected) for each whose venue
    pushes its trades, and the others' accounts, to poll. Browser accounts are never streamed:
    only their owner process opens their browser; they are polled through their venue's API
    (following.venue), as the sync reads them."""
    wanted, polled = {}, {}
    for account in ExchangeAccount.objects.filter(pk__in=dispatch.masters_to_sync(), is_active=True):
        stream = None
        if account.connector != "browser":
            try:
                stream = connector_for(account).execution_stream()
            except Exception as exc:  # a misconfigured account is polled, as before
                logger.warning("master account %s: no execution stream: %s", account.pk, exc)
        if stream is not None:
            wanted[account.pk] = stream
        else:
            polled[account.pk] = account
    return wanted, polled


def desk_orders(account_id: int, client_order_ids: list[str]) -> set[str]:
    """Which of these client order ids are the desk's own orders on the account."""
    found = Order.objects.filter(exchange_account_id=account_id, client_order_id__in=client_order_ids)
    return set(found.values_list("client_order_id", flat=True))


def master_traded(account_id: int, executions: list[Execution]) -> bool:
    """Queue the master's sync for trades the desk did not place itself. True when queued."""
    ids = [execution.client_order_id for execution in executions if execution.client_order_id]
    ours = desk_orders(account_id, ids) if ids else set()
    outside = [execution for execution in executions if execution.client_order_id not in ours]
    if not outside:
        return False
    return dispatch.enqueue_master_sync(account_id, prices=_average_prices(outside))


def _average_prices(executions: list[Execution]) -> dict[str, str]:
    """The master's average fill price per symbol over these trades."""
    qty: dict[str, Decimal] = {}
    cost: dict[str, Decimal] = {}
    for execution in executions:
        qty[execution.symbol] = qty.get(execution.symbol, Decimal(0)) + execution.qty
        cost[execution.symbol] = cost.get(execution.symbol, Decimal(0)) + execution.qty * execution.price
    return {symbol: f"{(cost[symbol] / qty[symbol]).normalize():f}" for symbol in qty if qty[symbol]}


async def watch_master(account_id: int, stream: ExecutionStream) -> None:
    """Read one master's stream until cancelled, reconnecting when it breaks."""
    pause = settings.FOLLOW_WATCH_RETRY_MIN
    first = True
    while True:
        try:
            await stream.connect()
            await sync_to_async(_mark_live)(account_id, True)
            if not first:
                # Back after a break: what the master did meanwhile was not pushed; its sync reads it.
                logger.info("master account %s: execution stream back", account_id)
                await sync_to_async(dispatch.enqueue_master_sync)(account_id)
            first, pause = False, settings.FOLLOW_WATCH_RETRY_MIN
            while True:
                executions = await stream.next()
                if executions and await sync_to_async(master_traded)(account_id, executions):
                    logger.info("master account %s: %d trade(s) pushed; sync queued", account_id, len(executions))
        except asyncio.CancelledError:
            await _down(account_id, stream)
            raise
        except Exception as exc:
            logger.warning("master account %s: execution stream broke (%s); again in %.0fs", account_id, exc, pause)
            await _down(account_id, stream)
            await asyncio.sleep(pause)
            pause = min(pause * 2, settings.FOLLOW_WATCH_RETRY_MAX)


async def _down(account_id: int, stream: ExecutionStream) -> None:
    await stream.close()
    await sync_to_async(_mark_live)(account_id, False)


def master_fingerprint(account: ExchangeAccount) -> str:
    """The master's positions (one venue read), as a fingerprint. In a worker thread: a browser
    account without an API key is read from the desk's ledger, so its connection is closed."""
    try:
        return venue.master_snapshot(account).fingerprint
    finally:
        connection.close()


def master_changed(account_id: int, fingerprint: str, previous: str | None) -> bool:
    """Queue the master's sync when its positions moved since this watcher's previous read
    (None: no previous read) and differ from those its last full sync saw (a sync the desk's
    own order queued has often seen them already). True when queued."""
    if fingerprint == previous:
        return False
    seen = batches.master_last_seen(account_id)
    if seen is not None and seen["fingerprint"] == fingerprint:
        return False
    return dispatch.enqueue_master_sync(account_id)


async def poll_master(entry: Polled, reads: ThreadPoolExecutor) -> None:
    """Read one master's positions every FOLLOW_WATCH_POLL seconds until cancelled; a change
    queues its followers' sync. A failed read is logged once until a read succeeds again."""
    previous: str | None = None
    failing = False
    marked = 0.0
    every = settings.FOLLOW_WATCH_POLL
    loop = asyncio.get_running_loop()
    while True:
        started = time.monotonic()
        account_id = entry.account.pk
        try:
            fingerprint = await loop.run_in_executor(reads, master_fingerprint, entry.account)
        except Exception as exc:
            if not failing:
                logger.warning("master account %s: positions unavailable to the watcher: %s", account_id, exc)
            failing = True  # the next good read is compared with the last one: net positions count
        else:
            if failing:
                logger.info("master account %s: positions readable again", account_id)
            failing = False
            changed = fingerprint != previous
            if changed and await loop.run_in_executor(reads, master_changed, account_id, fingerprint, previous):
                logger.info("master account %s: positions changed; sync queued", account_id)
            previous = fingerprint
            if started - marked >= 1.0:  # the status page's mark, renewed once a second at most
                await loop.run_in_executor(reads, _mark_polled, account_id)
                marked = started
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))


POLLED = "following:watch:polled:{}"


def _mark_polled(account_id: int) -> None:
    """Say in the shared cache that the watcher reads this master every FOLLOW_WATCH_POLL
    seconds; the mark expires soon after the watcher's reads stop."""
    every = settings.FOLLOW_WATCH_POLL
    cache.set(POLLED.format(account_id), every, timeout=max(5, int(10 * every)))


def polled_every(account_id: int) -> float | None:
    """The seconds between the watcher's reads of this master while it polls it, else None."""
    found = cache.get(POLLED.format(account_id))
    return float(found) if found is not None else None


LIVE = "following:watch:live:{}"
_live: set[int] = set()  # this process's masters whose stream is subscribed now


def _mark_live(account_id: int, live: bool) -> None:
    """Say in the shared cache whether the master's stream is subscribed. The mark expires
    (3 refreshes) unless the watcher renews it, so a watcher that died leaves none behind."""
    if live:
        _live.add(account_id)
        cache.set(LIVE.format(account_id), True, timeout=3 * settings.FOLLOW_WATCH_REFRESH + 5)
    else:
        _live.discard(account_id)
        cache.delete(LIVE.format(account_id))


def stream_live(account_id: int) -> bool:
    """True while a watcher holds a subscribed stream of this master's trades."""
    return bool(cache.get(LIVE.format(account_id)))


async def watch(stop: asyncio.Event) -> None:
    """Keep one stream per master that has one and poll the others (FOLLOW_WATCH_POLL > 0),
    refreshing the set every FOLLOW_WATCH_REFRESH seconds (new follows, masters no longer
    followed, changed keys), until `stop` is set."""
    watched: dict[int, Watched] = {}
    polled: dict[int, Polled] = {}
    reads = ThreadPoolExecutor(max_workers=POLL_THREADS, thread_name_prefix="watch-poll")
    try:
        while not stop.is_set():
            try:
                wanted, to_poll = await sync_to_async(masters_wanted)()
            except Exception:
                logger.exception("follow watch: the masters could not be read; trying again")
                wanted = to_poll = None
            if wanted is not None:
                _refresh(watched, wanted)
                _refresh_polls(polled, to_poll if settings.FOLLOW_WATCH_POLL > 0 else {}, reads)
            with contextlib.suppress(Exception):  # alive even when the database is not (its check says so)
                await sync_to_async(_beat)(len(watched), len(polled))
            for account_id in list(_live):
                await sync_to_async(_mark_live)(account_id, True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.FOLLOW_WATCH_REFRESH)
    finally:
        tasks = [entry.task for entry in [*watched.values(), *polled.values()] if entry.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        reads.shutdown(wait=False, cancel_futures=True)  # a read hung at its venue ends on its timeout
        with contextlib.suppress(Exception):  # stopped on purpose: not an outage (Redis may be down)
            await sync_to_async(forget)()


HEARTBEAT = "following:watch:heartbeat"


def _beat(streams: int, polls: int) -> None:
    """The watcher is alive: written on every refresh (FOLLOW_WATCH_REFRESH), for ops.health."""
    cache.set(HEARTBEAT, {"at": time.time(), "streams": streams, "polls": polls}, timeout=None)


def forget() -> None:
    """No watcher runs any more: its mark goes (a watcher stopping; an operator retiring one that
    was killed without its cleanup)."""
    cache.delete(HEARTBEAT)


def watcher_heartbeat() -> dict | None:
    """The running watcher's last refresh ({"at", "streams", "polls"}), or None when no watcher
    runs (never started, or stopped on purpose)."""
    return cache.get(HEARTBEAT)


def _refresh_polls(polled: dict[int, Polled], wanted: dict[int, ExchangeAccount], reads: ThreadPoolExecutor) -> None:
    for account_id in list(polled):
        if account_id not in wanted or polled[account_id].task.done():  # type: ignore[union-attr]
            polled.pop(account_id).task.cancel()
            logger.info("master account %s: stopped polling it", account_id)
    for account_id, account in wanted.items():
        if account_id in polled:
            polled[account_id].account = account
            continue
        entry = Polled(account)
        entry.task = asyncio.get_running_loop().create_task(poll_master(entry, reads))
        polled[account_id] = entry
        logger.info("master account %s: polling it every %ss", account_id, settings.FOLLOW_WATCH_POLL)


def _refresh(watched: dict[int, Watched], wanted: dict[int, ExecutionStream]) -> None:
    for account_id in list(watched):
        entry = watched[account_id]
        stream = wanted.get(account_id)
        if stream is None or stream.key != entry.key or entry.task.done():
            entry.task.cancel()
            del watched[account_id]
            logger.info("master account %s: stopped watching its trades", account_id)
    for account_id, stream in wanted.items():
        if account_id not in watched:
            task = asyncio.get_running_loop().create_task(watch_master(account_id, stream))
            watched[account_id] = Watched(task, stream.key)
            logger.info("master account %s: watching its trades", account_id)
