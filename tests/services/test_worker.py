"""The real pipeline: Redis broker, a real Celery worker process, the Redis channel layer."""

import asyncio
import os
import subprocess
import sys
import time

import pytest
import redis
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from orders.models import Order
from orders.tasks import place_order
from tests.test_websockets import connect

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """A Celery worker in its own process, on the test database and the test Redis; its log is
    printed when a test fails (pytest shows a test's captured output)."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL, "DEBUG": "true"}
    log = tmp_path / "worker.log"
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "tradedesk", "worker", "--pool", "solo", "--loglevel", "INFO"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),  # noqa: SIM115 (closed with the process)
    )
    # Started on a loaded machine (CI runs the browser tests beside these), a worker can take
    # seconds to import the desk: the tests' own waits start once it consumes the queue.
    deadline = time.monotonic() + 90
    while " ready." not in log.read_text():
        assert process.poll() is None, f"the worker exited ({process.returncode}):\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"the worker was not ready within 90 s:\n{log.read_text()[-3000:]}"
        time.sleep(0.1)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    print("--- the worker's log ---\n" + log.read_text()[-6000:])


async def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await database_sync_to_async(predicate)()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout}s")


def confirm(user, signal_id: int) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    body = {"signal_id": signal_id, "qty": "0.5", "order_type": "LIMIT", "price": "65000"}
    response = client.post("/api/orders", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


async def test_a_confirmed_order_is_placed_by_the_worker_and_pushed_live(trader, make_signal, worker):
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"
    signal = await database_sync_to_async(make_signal)()
    socket, connected = await connect("/ws/orders", trader)
    assert connected

    created = await database_sync_to_async(confirm)(trader, signal.pk)
    assert created["status"] == "SUBMITTING"
    first = await socket.receive_json_from(timeout=10)
    assert (first["data"]["id"], first["data"]["status"]) == (created["id"], "SUBMITTING")
    # The result is published by the worker process, so it crosses Redis to reach this socket.
    result = await socket.receive_json_from(timeout=30)
    assert (result["type"], result["data"]["status"]) == ("order_updated", "SUCCESS")
    order = await database_sync_to_async(Order.objects.select_related("signal").get)(pk=created["id"])
    assert order.status == "SUCCESS" and order.signal.status == "EXECUTED"
    await socket.disconnect()


async def test_a_redelivered_task_is_placed_once_by_the_worker(trader, make_signal, worker):
    signal = await database_sync_to_async(make_signal)()
    created = await database_sync_to_async(confirm)(trader, signal.pk)
    for _ in range(2):
        place_order.delay(created["id"])  # the broker delivering the same task again
    # The queue is FIFO and the worker single: once a later order is done, so are the repeats.
    marker_signal = await database_sync_to_async(make_signal)(symbol="ETH/USDT")
    marker = await database_sync_to_async(confirm)(trader, marker_signal.pk)
    await wait_for(lambda: Order.objects.filter(pk=marker["id"], status="SUCCESS").exists())

    def reasons() -> list[str]:
        history = Order.history.filter(id=created["id"]).order_by("history_date")
        return [record.history_change_reason for record in history]

    assert await database_sync_to_async(reasons)() == [
        f"confirmed by {trader.username}",
        "placement started",
        "venue result SUCCESS",
    ]
