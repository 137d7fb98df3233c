"""Races on the real PostgreSQL: the limits, one order per signal, one signal per idempotency key."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum
from rest_framework.test import APIClient

from orders import services
from orders.models import Order
from signals.models import Signal
from tradedesk.exceptions import ApplicationError

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def run_together(count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in `count` threads released at the same moment; return results or errors."""
    barrier = threading.Barrier(count)

    def one(index: int) -> object:
        try:
            barrier.wait(timeout=30)
            return work(index)
        except Exception as exc:  # collected, asserted by the caller
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_it_runs_on_postgresql():
    assert connection.vendor == "postgresql"


def test_fifty_parallel_confirms_never_exceed_the_daily_limit(trader, make_signal, queued_tasks, settings):
    settings.RISK_MAX_ORDER_QTY = "1"
    settings.RISK_MAX_DAILY_QTY = "10"
    signals = [make_signal() for _ in range(50)]

    def confirm(index: int) -> Order:
        return services.order_create(
            user=trader, signal_id=signals[index].pk, qty=Decimal("1"), order_type="LIMIT", price=Decimal("100")
        )

    results = run_together(50, confirm)
    placed = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, ApplicationError)]
    unexpected = [r for r in results if not isinstance(r, Order | ApplicationError)]
    assert unexpected == []
    assert len(placed) == 10
    assert {error.code for error in refused} == {"risk_max_daily_qty"}
    assert Order.objects.aggregate(total=Sum("qty"))["total"] == Decimal("10")


def test_parallel_confirms_of_one_signal_make_one_order(trader, make_signal, queued_tasks):
    signal = make_signal()

    def confirm(_: int) -> Order:
        return services.order_create(user=trader, signal_id=signal.pk, qty=Decimal("1"), order_type="MARKET")

    results = run_together(10, confirm)
    assert sum(isinstance(r, Order) for r in results) == 1
    assert {r.code for r in results if isinstance(r, ApplicationError)} == {"signal_already_ordered"}
    assert Order.objects.filter(signal=signal).count() == 1


def test_twenty_concurrent_replays_create_one_signal(strategy):
    body = {"symbol": "BTC/USDT", "side": "SELL", "suggest_qty": "2", "strategy_name": "race"}

    def post(_: int):
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=strategy.key)
        response = client.post("/api/signals", body, format="json", HTTP_IDEMPOTENCY_KEY="retry-storm")
        return response.status_code, response.json()["id"]

    results = run_together(20, post)
    assert all(not isinstance(r, Exception) for r in results), results
    assert {status for status, _ in results} == {201}
    assert len({signal_id for _, signal_id in results}) == 1
    assert Signal.objects.count() == 1
