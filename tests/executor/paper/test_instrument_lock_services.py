"""On PostgreSQL: fills of one symbol wait for each other only when the symbol has a liquidity
limit (they share it); unlimited, two accounts' market orders fill side by side."""

import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, transaction

from executor.paper import services
from executor.paper.models import OrderStatus
from tests.executor.paper.conftest import make_trader

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def buy(trader, client_order_id: str):
    return services.paper_order_place(
        account=trader.account,
        client_order_id=client_order_id,
        symbol="BTC-USDT",
        side="BUY",
        order_type="MARKET",
        qty=Decimal("0.1"),
    )


def second_fill_while_the_first_is_open(first, second):
    """`first` buys inside a transaction kept open (in its own thread and connection) while
    `second` buys with a 500 ms lock timeout: its order, or the error it got."""
    held, release, failed = threading.Event(), threading.Event(), []

    def hold() -> None:
        try:
            with transaction.atomic():
                buy(first, "first")
                held.set()
                release.wait(timeout=30)
        except Exception as exc:  # noqa: BLE001 (reported to the test below)
            failed.append(exc)
            held.set()
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(timeout=30) and not failed, failed
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '500ms'")
            return buy(second, "second")
    except OperationalError as exc:
        return exc
    finally:
        release.set()
        thread.join(timeout=30)


def test_an_unlimited_symbol_fills_a_second_account_while_the_first_fill_is_uncommitted(paper_instruments):
    services.paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=None)
    first, second = make_trader("first", USDT="100000"), make_trader("second", USDT="100000")
    order = second_fill_while_the_first_is_open(first, second)
    assert not isinstance(order, Exception), order
    assert order.status == OrderStatus.FILLED and order.filled_qty == Decimal("0.1")


def test_a_symbol_with_a_liquidity_limit_still_makes_the_second_fill_wait_for_the_first(paper_instruments):
    services.paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.15"))
    first, second = make_trader("first", USDT="100000"), make_trader("second", USDT="100000")
    found = second_fill_while_the_first_is_open(first, second)
    assert isinstance(found, OperationalError) and "lock timeout" in str(found)
