"""Matching: market orders fill at the mark, limit orders rest with funds locked until the mark crosses."""

from decimal import Decimal

import pytest

from executor.paper import selectors, services, tasks
from executor.paper.models import OrderStatus, PaperBalance, PaperOrder
from executor.paper.services import fills

pytestmark = pytest.mark.django_db


def place(trader, client_order_id="td-1", **fields):
    values = {"symbol": "BTC-USDT", "side": "BUY", "order_type": "MARKET", "qty": Decimal("0.1"), **fields}
    return services.paper_order_place(account=trader.account, client_order_id=client_order_id, **values)


def balance(trader, asset: str) -> tuple[Decimal, Decimal]:
    row = PaperBalance.objects.get(account=trader.account, asset=asset)
    return row.free, row.locked


def position(trader, symbol: str = "BTC-USDT"):
    return selectors.position_list(account=trader.account).filter(symbol=symbol).first()


def test_a_market_buy_fills_at_the_mark_and_moves_balances_and_the_position(mark, alice):
    order = place(alice, qty=Decimal("0.5"))
    assert order.status == OrderStatus.FILLED
    assert order.filled_qty == Decimal("0.5") and order.avg_price == Decimal("65000")
    assert balance(alice, "USDT") == (Decimal("67500"), Decimal("0"))
    assert balance(alice, "BTC") == (Decimal("1.5"), Decimal("0"))
    assert position(alice).qty == Decimal("1.5") and position(alice).avg_price == Decimal("65000")


def test_a_market_sell_spends_the_base_asset_and_credits_the_quote(mark, alice):
    order = place(alice, side="SELL", qty=Decimal("0.25"))
    assert order.status == OrderStatus.FILLED
    assert balance(alice, "BTC") == (Decimal("0.75"), Decimal("0"))
    assert balance(alice, "USDT") == (Decimal("116250"), Decimal("0"))
    assert position(alice).qty == Decimal("0.75") and position(alice).avg_price == Decimal("65000")


def test_buying_at_two_prices_averages_the_entry_price(mark, bob):
    place(bob, "b-1", qty=Decimal("0.005"))
    mark("BTC-USDT", "55000")
    place(bob, "b-2", qty=Decimal("0.005"))
    assert position(bob).qty == Decimal("0.01") and position(bob).avg_price == Decimal("60000")


def test_selling_everything_closes_the_position(mark, bob):
    place(bob, "b-1", qty=Decimal("0.01"))
    place(bob, "b-2", side="SELL", qty=Decimal("0.01"))
    assert position(bob) is None
    assert balance(bob, "USDT") == (Decimal("1000"), Decimal("0"))


def test_a_limit_buy_below_the_mark_rests_and_locks_its_funds(mark, alice):
    order = place(alice, order_type="LIMIT", price=Decimal("60000"), qty=Decimal("0.5"))
    assert order.status == OrderStatus.NEW and order.filled_qty == 0
    assert balance(alice, "USDT") == (Decimal("70000"), Decimal("30000"))
    assert balance(alice, "BTC") == (Decimal("1"), Decimal("0"))


def test_a_resting_limit_buy_fills_at_its_price_when_the_mark_falls_to_it(mark, alice):
    order = place(alice, order_type="LIMIT", price=Decimal("60000"), qty=Decimal("0.5"))
    mark("BTC-USDT", "60000.01")
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW
    mark("BTC-USDT", "59000")
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED and order.avg_price == Decimal("60000")
    assert balance(alice, "USDT") == (Decimal("70000"), Decimal("0"))
    assert balance(alice, "BTC") == (Decimal("1.5"), Decimal("0"))


def test_a_resting_limit_sell_fills_when_the_mark_rises_to_it(mark, alice):
    order = place(alice, side="SELL", order_type="LIMIT", price=Decimal("70000"), qty=Decimal("0.4"))
    assert balance(alice, "BTC") == (Decimal("0.6"), Decimal("0.4"))
    mark("BTC-USDT", "70000")
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED
    assert balance(alice, "BTC") == (Decimal("0.6"), Decimal("0"))
    assert balance(alice, "USDT") == (Decimal("128000"), Decimal("0"))


def test_an_api_call_matches_resting_orders_the_mark_has_crossed(mark, alice, alice_api):
    order = place(alice, order_type="LIMIT", price=Decimal("60000"))
    # Set behind the service's back, as a drifting walk would: only the next read matches.
    from executor.paper.models import PaperInstrument

    PaperInstrument.objects.filter(symbol="BTC-USDT").update(override_price=Decimal("59999"))
    assert alice_api.get("/paper/api/orders/by-client-id/td-1").json()["status"] == "FILLED"
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED


def test_the_beat_task_matches_resting_orders(mark, alice):
    order = place(alice, order_type="LIMIT", price=Decimal("60000"))
    from executor.paper.models import PaperInstrument

    PaperInstrument.objects.filter(symbol="BTC-USDT").update(override_price=Decimal("59999"))
    assert tasks.match_open_orders() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED


def test_a_marketable_limit_buy_fills_at_once_at_the_better_mark_and_keeps_the_difference(mark, alice):
    order = place(alice, order_type="LIMIT", price=Decimal("66000"), qty=Decimal("1"))
    assert order.status == OrderStatus.FILLED and order.avg_price == Decimal("65000")
    assert balance(alice, "USDT") == (Decimal("35000"), Decimal("0"))


def test_canceling_a_resting_order_gives_back_what_it_locked(mark, alice):
    order = place(alice, order_type="LIMIT", price=Decimal("60000"), qty=Decimal("0.5"))
    services.paper_order_cancel(account=alice.account, order=order)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert balance(alice, "USDT") == (Decimal("100000"), Decimal("0"))
    mark("BTC-USDT", "50000")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED


def test_a_fill_that_fails_midway_changes_nothing(mark, alice, monkeypatch):
    def broken(order, qty, price):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fills, "_position_apply", broken)
    with pytest.raises(RuntimeError):
        place(alice, qty=Decimal("0.5"))
    assert not PaperOrder.objects.exists()
    assert balance(alice, "USDT") == (Decimal("100000"), Decimal("0"))
    assert balance(alice, "BTC") == (Decimal("1"), Decimal("0"))
    assert position(alice).qty == Decimal("1")
