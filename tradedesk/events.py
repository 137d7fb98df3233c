"""Live events for the desk pages: {"type": ..., "data": {...}} sent to a Channels group
(`publish`); `send` is the same delivery for a message of any Channels type (the paper
exchange's Binance User Data Stream uses it).

Only ever called after commit (services wrap it in transaction.on_commit), so a page never
sees a row that was rolled back.
"""

import asyncio
import collections
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
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
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.exception("event %s for group %s was not delivered", _label(message), group)


def publish(group: str, event_type: str, data: dict[str, Any]) -> None:
    """Send one desk event to everyone in `group` now. Never raises: a lost push is re-synced."""
    send(group, {"type": "desk.event", "event": {"type": event_type, "data": data}})


def publish_on_commit(group: str, event_type: str, data: dict[str, Any]) -> None:
    transaction.on_commit(lambda: publish(group, event_type, data))
