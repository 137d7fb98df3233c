"""Live events for the desk pages: {"type": ..., "data": {...}} sent to a Channels group
(`publish`); `send` is the same delivery for a message of any Channels type (the paper
exchange's Binance User Data Stream uses it).

Only ever called after commit (services wrap it in transaction.on_commit), so a page never
sees a row that was rolled back.
"""

import asyncio
import collections
import logging
import os
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.db import transaction

logger = logging.getLogger(__name__)

SIGNALS_GROUP = "signals"
ORDERS_GROUP = "orders"

_server_loop: asyncio.AbstractEventLoop | None = None
_server_thread: int | None = None


# Events handed to the server loop from other threads, sent in order by one task on that loop.
# Only ever touched on the server loop.
_pending: collections.deque = collections.deque()
_draining = False

# A process with no server loop (a Celery worker, a command) sends to the Redis layer on a loop of
# its own, in one thread, for the life of the process; a forked child (a prefork worker's pool
# process) starts its own.
_sender: asyncio.AbstractEventLoop | None = None
_sender_lock = threading.Lock()
# How long a sender waits for its event to reach Redis before giving up on it (logged).
SEND_TIMEOUT = 5.0


def remember_server_loop() -> None:
    """Record the ASGI server's loop (called from the ASGI app on every connection)."""
    global _server_loop, _server_thread, _draining
    loop = asyncio.get_running_loop()
    if loop is not _server_loop:
        _server_loop, _server_thread = loop, threading.get_ident()
        _pending.clear()
        _draining = False


def _queue_send(layer, group: str, message: dict) -> None:
    """On the server loop: queue one message; a single task sends them one after another, so
    they reach the layer in the order they were sent."""
    global _draining
    _pending.append((layer, group, message))
    if not _draining:
        _draining = True
        asyncio.get_running_loop().create_task(_drain())


def _label(message: dict) -> str:
    event = message.get("event")
    return event.get("type", message["type"]) if isinstance(event, dict) else message["type"]


async def _drain() -> None:
    global _draining
    try:
        while _pending:
            layer, group, message = _pending.popleft()
            try:
                await layer.group_send(group, message)
            except Exception:
                logger.exception("event %s for group %s was not delivered", _label(message), group)
    finally:
        _draining = False


def send(group: str, message: dict[str, Any]) -> None:
    """Send one Channels message ({"type": <handler>, ...}) to everyone in `group` now, from any
    thread. Never raises: a lost push is re-synced."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop = _server_loop
        if loop is not None and loop.is_running() and threading.get_ident() != _server_thread:
            # A request or embedded worker thread of the web server sends on the server's loop:
            # the in-memory layer's queues belong to that loop and are not thread-safe, and the
            # Redis layer keeps its connections per loop, so a loop of our own (async_to_sync
            # from a plain thread) would open a new Redis connection for every event. Handed
            # over without waiting: a request does not wait for (nor pay the thread handoff of)
            # its event's delivery, which was a quarter of the intake's CPU (bench/README.md).
            loop.call_soon_threadsafe(_queue_send, layer, group, message)
        elif isinstance(layer, RedisChannelLayer):
            # No server loop here (a worker). async_to_sync from a plain thread runs each call on a
            # new loop, and the Redis layer keeps its connections per loop: a new connection, a
            # thread and a loop for every event, ~3 ms of CPU each. The process's sender loop keeps
            # them; the caller waits for its event, so its events still go out in order.
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _sender_loop()).result(SEND_TIMEOUT)
        else:
            # The in-memory layer (embedded, tests): its queues belong to the loop that reads them,
            # which async_to_sync finds (the caller's sync_to_async) or makes.
            async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.exception("event %s for group %s was not delivered", _label(message), group)


def _sender_loop() -> asyncio.AbstractEventLoop:
    global _sender
    with _sender_lock:
        if _sender is None:
            _sender = asyncio.new_event_loop()
            threading.Thread(target=_sender.run_forever, name="events-sender", daemon=True).start()
        return _sender


def _forget_sender() -> None:
    # The parent's sender thread is not in the child (its loop would never run the child's
    # sends), and its lock may have been held when the process forked.
    global _sender, _sender_lock
    _sender, _sender_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_sender)


def publish(group: str, event_type: str, data: dict[str, Any]) -> None:
    """Send one desk event to everyone in `group` now. Never raises: a lost push is re-synced."""
    send(group, {"type": "desk.event", "event": {"type": event_type, "data": data}})


def publish_on_commit(group: str, event_type: str, data: dict[str, Any]) -> None:
    transaction.on_commit(lambda: publish(group, event_type, data))
