"""Live events sent where no server loop runs (a Celery worker): one Redis connection for the
process, not one per event (tradedesk/events.py)."""

import asyncio
import os
import threading
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from redis.asyncio.connection import Connection

from tradedesk import events

pytestmark = pytest.mark.services


def test_a_workers_events_reach_the_group_in_order_over_one_connection(monkeypatch):
    layer = get_channel_layer()
    group = f"test-events-{uuid.uuid4().hex[:8]}"
    listener = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, listener)
    opened = []
    connect = Connection._connect

    async def counted(self):
        opened.append(self)
        await connect(self)

    monkeypatch.setattr(Connection, "_connect", counted)

    def worker_thread():  # a plain thread, as a Celery worker's task runs in
        for number in range(20):
            events.publish(group, "order_updated", {"number": number})

    thread = threading.Thread(target=worker_thread)
    thread.start()
    thread.join()

    async def twenty():
        return [await layer.receive(listener) for _ in range(20)]

    received = async_to_sync(twenty)()
    assert [message["event"]["data"]["number"] for message in received] == list(range(20))
    assert len(opened) <= 2  # the sender loop's connection, once (and the listener's own reads)


def test_a_forked_worker_process_sends_on_a_loop_of_its_own():
    """A prefork worker's pool process is forked from a parent that may have sent already."""
    group = f"test-events-{uuid.uuid4().hex[:8]}"
    layer = get_channel_layer()
    listener = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, listener)
    events.publish(group, "order_updated", {"by": "parent"})
    child = os.fork()
    if child == 0:  # the child: send, and say by its exit status whether it could
        try:
            events.publish(group, "order_updated", {"by": "child"})
            os._exit(0)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(child, 0)

    async def two():
        return [await asyncio.wait_for(layer.receive(listener), 10) for _ in range(2)]

    assert os.waitstatus_to_exitcode(status) == 0
    assert [message["event"]["data"]["by"] for message in async_to_sync(two)()] == ["parent", "child"]
