"""Races on PostgreSQL: a cancel racing a fill ends FILLED or CANCELED (filled part kept), never both;
two matchers never fill one order twice; one TOTP code opens one session."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from executor.paper import services
from executor.paper.errors import OrderNotOpen
from executor.paper.models import OrderStatus, PaperBalance, PaperSession, PaperTrade
from tests.executor.paper.conftest import make_trader

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def together(*calls) -> list:
    """Run the calls at once, each in its own thread (and database connection); their results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 (the test looks at what each call ended with)
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def usdt(trader) -> Decimal:
    row = PaperBalance.objects.get(account=trader.account, asset="USDT")
    return row.free + row.locked


@pytest.mark.parametrize("liquidity", [None, Decimal("0.2")])
def test_a_cancel_racing_a_fill_ends_filled_or_canceled_never_both(paper_instruments, settings, liquidity):
    settings.PAPER_MAKER_FEE_RATE = settings.PAPER_TAKER_FEE_RATE = Decimal("0.001")
    services.paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=liquidity)
    trader = make_trader("racer", USDT="100000")
    for attempt in range(5):
        order = services.paper_order_place(
            account=trader.account,
            client_order_id=f"race-{attempt}",
            symbol="BTC-USDT",
            side="BUY",
            order_type="LIMIT",
            qty=Decimal("0.5"),
            price=Decimal("60000"),
        )
        fill, cancel = together(
            lambda: services.paper_price_set(symbol="BTC-USDT", price=Decimal("59000")),
            lambda order=order: services.paper_order_cancel(account=trader.account, order=order),
        )
        assert not isinstance(fill, Exception), fill
        order.refresh_from_db()
        filled = sum(PaperTrade.objects.filter(order=order).values_list("qty", flat=True), Decimal(0))
        assert order.filled_qty == filled
        if isinstance(cancel, OrderNotOpen):
            assert order.status == OrderStatus.FILLED and filled == order.qty
        else:
            assert not isinstance(cancel, Exception), cancel
            assert order.status == OrderStatus.CANCELED and filled < order.qty
        assert order.locked_amount == 0
        services.paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    # Nothing locked is left behind, and every USDT that left was paid for a fill and its fee.
    assert PaperBalance.objects.get(account=trader.account, asset="USDT").locked == 0
    spent = sum((t.quote_qty + t.fee for t in PaperTrade.objects.filter(account=trader.account)), Decimal(0))
    assert usdt(trader) == Decimal("100000") - spent


def test_two_matchers_never_fill_one_order_twice(paper_instruments):
    services.paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.3"))
    trader = make_trader("matcher", USDT="100000")
    order = services.paper_order_place(
        account=trader.account,
        client_order_id="m-1",
        symbol="BTC-USDT",
        side="BUY",
        order_type="LIMIT",
        qty=Decimal("0.5"),
        price=Decimal("60000"),
    )
    from executor.paper.models import PaperInstrument

    PaperInstrument.objects.filter(symbol="BTC-USDT").update(override_price=Decimal("59000"))
    together(services.paper_match_open_orders, services.paper_match_open_orders, services.paper_match_open_orders)
    order.refresh_from_db()
    assert PaperTrade.objects.filter(order=order).count() == 1
    assert (order.status, order.filled_qty) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.3"))


def test_one_totp_code_sent_twice_at_once_opens_one_session(paper_instruments):
    trader = make_trader("twice", USDT="1")
    code = trader.totp()

    def login() -> int:
        client = Client()
        client.post("/paper/login", {"username": trader.username, "password": trader.password})
        return client.post("/paper/login/2fa", {"code": code}).status_code

    assert sorted(together(login, login)) == [200, 302]
    assert PaperSession.objects.filter(account=trader.account).count() == 1
