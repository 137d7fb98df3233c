"""Masters' trades pushed by their venue: each one queues the master's followers' sync at once.

Beat's poll (following.dispatch) reads an external master's positions every FOLLOW_SYNC_EVERY
seconds, so a trade the master made by itself waits up to a beat before its followers follow.
A venue that pushes an account's executions (Binance's User Data Stream, through ccxt.pro: the
account connector's `execution_stream()`) says so the moment it happens. This process
(`manage.py follow_watch`, the Procfile's `watch`) keeps one stream per master account with
active followers whose connector offers one, and on each batch of the master's own trades
queues that master's sync (`enqueue_master_sync`, with the trades' prices for the slippage guard).

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
from dataclasses import dataclass
from decimal import Decimal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

from executor.connectors.base import Execution, ExecutionStream
from executor.models import ExchangeAccount
from executor.selectors import connector_for
from following import dispatch
from orders.models import Order

logger = logging.getLogger(__name__)


@dataclass
class Watched:
    task: asyncio.Task
    key: str


def streams_wanted() -> dict[int, ExecutionStream]:
    """A stream (not yet connected) for each master account with active followers whose venue
    pushes its trades. Browser accounts are left out: only their owner process opens their
    browser, and their venue's trades are read through the API anyway (following.venue)."""
    wanted = {}
    for account in ExchangeAccount.objects.filter(pk__in=dispatch.masters_to_sync()).exclude(connector="browser"):
        try:
            stream = connector_for(account).execution_stream()
        except Exception as exc:  # a misconfigured account is polled, as before
            logger.warning("master account %s: no execution stream: %s", account.pk, exc)
            continue
        if stream is not None:
            wanted[account.pk] = stream
    return wanted


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
    """Keep one stream per master that has one, refreshing the set every FOLLOW_WATCH_REFRESH
    seconds (new follows, masters no longer followed, changed keys), until `stop` is set."""
    watched: dict[int, Watched] = {}
    try:
        while not stop.is_set():
            try:
                wanted = await sync_to_async(streams_wanted)()
            except Exception:
                logger.exception("follow watch: the masters could not be read; trying again")
                wanted = None
            if wanted is not None:
                _refresh(watched, wanted)
            for account_id in list(_live):
                await sync_to_async(_mark_live)(account_id, True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=settings.FOLLOW_WATCH_REFRESH)
    finally:
        for entry in watched.values():
            entry.task.cancel()
        await asyncio.gather(*(entry.task for entry in watched.values()), return_exceptions=True)


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
