"""Builders for orders with fills, and a clean venue cache for every test."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache

from orders.models import Fill, Order

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_venue_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def filled_order(db, trader, make_signal) -> Callable[..., Order]:
    """An accepted desk order with its fills: fills=[(qty, price, fee), ...] in the quote currency."""
    counter = {"n": 0}

    def make(
        side: str,
        fills: list[tuple[str, str, str]],
        *,
        symbol: str = "BTC/USDT",
        account=None,
        signal=None,
        fee_asset: str = "USDT",
        start: datetime | None = None,
        **fields,
    ) -> Order:
        counter["n"] += 1
        start = start or T0 + timedelta(hours=counter["n"])
        signal = signal or make_signal(symbol=symbol, side=side)
        qty = sum((Decimal(q) for q, _, _ in fills), Decimal("0"))
        values = {
            "signal": signal,
            "symbol": symbol,
            "side": side,
            "order_type": "MARKET",
            "qty": qty,
            "status": "SUCCESS",
            "venue_state": "FILLED",
            "filled_qty": qty,
            "venue": account.connector if account else "dry_run",
            "exchange_account": account,
            "created_by": trader,
            **fields,
        }
        order = Order.objects.create(**values)
        Order.objects.filter(pk=order.pk).update(created_at=start)
        for index, (fill_qty, price, fee) in enumerate(fills):
            Fill.objects.create(
                order=order,
                trade_id=f"t{order.pk}-{index}",
                qty=Decimal(fill_qty),
                price=Decimal(price),
                fee=Decimal(fee),
                fee_asset=fee_asset,
                time=start + timedelta(seconds=10 * (index + 1)),
            )
        order.refresh_from_db()
        return order

    return make
