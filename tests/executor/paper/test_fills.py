"""Fills: one Trade per execution, fees in the quote asset, partial fills by liquidity, expiry, cancel."""

from decimal import Decimal

import pytest

from executor.paper import services
from executor.paper.errors import OrderNotOpen
from executor.paper.models import OrderStatus, PaperBalance, PaperOrder, PaperTrade, RejectCode
from tests.executor.paper.conftest import order_body, place_on_page

pytestmark = pytest.mark.django_db


def place(trader, client_order_id="td-1", **fields):
    values = {"symbol": "BTC-USDT", "side": "BUY", "order_type": "MARKET", "qty": Decimal("0.1"), **fields}
    return services.paper_order_place(account=trader.account, client_order_id=client_order_id, **values)


def balance(trader, asset: str) -> tuple[Decimal, Decimal]:
    row = PaperBalance.objects.get(account=trader.account, asset=asset)
    return row.free, row.locked


def limit(price: str, qty: str = "0.5", **fields) -> dict:
    return {"order_type": "LIMIT", "price": Decimal(price), "qty": Decimal(qty), **fields}


def test_a_market_buy_pays_the_taker_fee_in_the_quote_asset_on_top_of_its_cost(mark, alice, fees):
    order = place(alice, qty=Decimal("0.5"))
    trade = PaperTrade.objects.get(order=order)
    assert (trade.qty, trade.price, trade.quote_qty) == (Decimal("0.5"), Decimal("65000"), Decimal("32500"))
    assert (trade.fee, trade.fee_asset, trade.is_maker) == (Decimal("65"), "USDT", False)
    assert (order.fee, order.fee_asset, order.filled_quote) == (Decimal("65"), "USDT", Decimal("32500"))
    assert balance(alice, "USDT") == (Decimal("67435"), Decimal("0"))
    assert balance(alice, "BTC") == (Decimal("1.5"), Decimal("0"))


def test_a_market_sell_has_the_fee_taken_from_its_proceeds(mark, alice, fees):
    place(alice, side="SELL", qty=Decimal("0.2"))
    assert balance(alice, "USDT") == (Decimal("100000") + Decimal("13000") - Decimal("26"), Decimal("0"))
    assert balance(alice, "BTC") == (Decimal("0.8"), Decimal("0"))


def test_a_resting_limit_buy_locks_its_fee_and_pays_the_maker_rate_when_it_fills(mark, alice, fees):
    order = place(alice, **limit("60000"))
    # 30000 cost and the fee at the higher (taker) rate, 60.
    assert balance(alice, "USDT") == (Decimal("69940"), Decimal("30060"))
    mark("BTC-USDT", "59000")
    order.refresh_from_db()
    trade = order.trades.get()
    assert (order.status, trade.is_maker, trade.fee) == (OrderStatus.FILLED, True, Decimal("30"))
    assert balance(alice, "USDT") == (Decimal("69970"), Decimal("0"))


def test_a_buy_that_cannot_pay_its_fee_is_refused(mark, bob, fees):
    # 1000 USDT buys 0.02 BTC at 50000 but not its fee.
    mark("BTC-USDT", "50000")
    order = place(bob, qty=Decimal("0.02"))
    assert (order.status, order.reject_code) == (OrderStatus.REJECTED, RejectCode.INSUFFICIENT_BALANCE)
    assert balance(bob, "USDT") == (Decimal("1000"), Decimal("0"))


def test_an_order_worth_less_than_the_minimum_notional_is_refused(mark, alice):
    order = place(alice, qty=Decimal("0.0001"), **{"order_type": "LIMIT", "price": Decimal("40000")})
    assert (order.status, order.reject_code) == (OrderStatus.REJECTED, RejectCode.BELOW_MIN_NOTIONAL)
    assert "below the minimum 5" in order.reject_reason


def test_a_resting_limit_goes_new_then_partially_filled_then_filled_as_liquidity_comes(mark, alice, fees):
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.2"))
    order = place(alice, **limit("60000"))
    assert order.status == OrderStatus.NEW
    mark("BTC-USDT", "59000")
    order.refresh_from_db()
    assert (order.status, order.filled_qty) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.2"))
    # More matching passes at the same mark find no more liquidity.
    services.paper_match_open_orders()
    order.refresh_from_db()
    assert order.filled_qty == Decimal("0.2")
    mark("BTC-USDT", "59000")
    order.refresh_from_db()
    assert (order.status, order.filled_qty) == (OrderStatus.PARTIALLY_FILLED, Decimal("0.4"))
    mark("BTC-USDT", "58000")
    order.refresh_from_db()
    assert (order.status, order.filled_qty, order.avg_price) == (OrderStatus.FILLED, Decimal("0.5"), Decimal("60000"))
    parts = list(order.trades.order_by("id").values_list("qty", flat=True))
    assert parts == [Decimal("0.2"), Decimal("0.2"), Decimal("0.1")]
    assert order.fee == Decimal("30") and order.locked_amount == 0
    assert balance(alice, "USDT") == (Decimal("69970"), Decimal("0"))
    assert balance(alice, "BTC") == (Decimal("1.5"), Decimal("0"))


def test_a_market_order_larger_than_the_liquidity_fills_what_it_can_and_expires(mark, alice):
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.3"))
    order = place(alice, qty=Decimal("0.5"))
    assert (order.status, order.filled_qty) == (OrderStatus.EXPIRED, Decimal("0.3"))
    assert balance(alice, "USDT") == (Decimal("100000") - Decimal("19500"), Decimal("0"))


def test_a_marketable_gtc_limit_fills_what_it_can_and_rests_the_rest(mark, alice):
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.3"))
    order = place(alice, **limit("66000"))
    assert (order.status, order.filled_qty, order.avg_price) == (
        OrderStatus.PARTIALLY_FILLED,
        Decimal("0.3"),
        Decimal("65000"),
    )
    assert balance(alice, "USDT") == (Decimal("100000") - Decimal("19500") - Decimal("13200"), Decimal("13200"))


def test_ioc_keeps_what_filled_and_fok_fills_whole_or_not_at_all(mark, alice):
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.3"))
    ioc = place(alice, "ioc", **limit("66000", time_in_force="IOC"))
    assert (ioc.status, ioc.filled_qty) == (OrderStatus.EXPIRED, Decimal("0.3"))
    mark("BTC-USDT", "65000")
    fok = place(alice, "fok", **limit("66000", time_in_force="FOK"))
    assert (fok.status, fok.filled_qty) == (OrderStatus.EXPIRED, Decimal("0"))
    assert not fok.trades.exists()
    resting_ioc = place(alice, "ioc-away", **limit("60000", time_in_force="IOC"))
    assert resting_ioc.status == OrderStatus.EXPIRED
    assert balance(alice, "USDT")[1] == 0


def test_canceling_a_partly_filled_order_keeps_the_fill_and_frees_the_rest(mark, alice, fees):
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.2"))
    order = place(alice, **limit("60000"))
    mark("BTC-USDT", "59000")
    order = services.paper_order_cancel(account=alice.account, order=order)
    assert (order.status, order.filled_qty) == (OrderStatus.CANCELED, Decimal("0.2"))
    # 12000 cost + 12 maker fee spent; nothing left locked.
    assert balance(alice, "USDT") == (Decimal("100000") - Decimal("12012"), Decimal("0"))
    mark("BTC-USDT", "59000")
    order.refresh_from_db()
    assert order.filled_qty == Decimal("0.2")


def test_a_filled_order_cannot_be_canceled_and_a_canceled_one_never_fills(mark, alice):
    filled = place(alice, "filled")
    with pytest.raises(OrderNotOpen):
        services.paper_order_cancel(account=alice.account, order=filled)
    resting = place(alice, "resting", **limit("60000"))
    services.paper_order_cancel(account=alice.account, order=resting)
    mark("BTC-USDT", "50000")
    resting.refresh_from_db()
    assert resting.status == OrderStatus.CANCELED and not resting.trades.exists()


def test_a_market_order_can_be_sized_by_what_it_spends(mark, alice):
    order = place(alice, qty=None, quote_order_qty=Decimal("1000"))
    assert (order.status, order.qty, order.quote_order_qty) == (OrderStatus.FILLED, Decimal("0.0153"), 1000)


def test_the_api_lists_open_orders_and_trades_and_cancels_by_exchange_order_id(mark, alice_api):
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.2"))
    alice_api.post("/paper/api/orders", order_body("rest", type="LIMIT", price="60000", qty="0.5"), format="json")
    alice_api.post("/paper/api/orders", order_body("market", qty="0.1"), format="json")
    mark("BTC-USDT", "59000")
    open_orders = alice_api.get("/paper/api/orders/open").json()["orders"]
    assert [(o["client_order_id"], o["status"], o["filled_qty"]) for o in open_orders] == [
        ("rest", "PARTIALLY_FILLED", "0.2")
    ]
    order_id = open_orders[0]["order_id"]
    assert alice_api.get(f"/paper/api/orders/{order_id}").json()["fills"][0]["liquidity"] == "MAKER"
    trades = alice_api.get("/paper/api/trades").json()["trades"]
    assert [(t["client_order_id"], t["qty"], t["price"]) for t in trades] == [
        ("rest", "0.2", "60000"),
        ("market", "0.1", "65000"),
    ]
    assert len(alice_api.get("/paper/api/trades", {"client_order_id": "market"}).json()["trades"]) == 1
    canceled = alice_api.post(f"/paper/api/orders/{order_id}/cancel")
    assert canceled.status_code == 200
    assert (canceled.json()["status"], canceled.json()["filled_qty"]) == ("CANCELED", "0.2")
    again = alice_api.post(f"/paper/api/orders/{order_id}/cancel")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ORDER_NOT_OPEN")
    assert alice_api.get("/paper/api/orders/P-999999").status_code == 404


def test_the_api_takes_a_time_in_force_for_limit_orders_only(mark, alice_api):
    ioc = alice_api.post(
        "/paper/api/orders", order_body("ioc", type="LIMIT", price="60000", time_in_force="IOC"), format="json"
    )
    assert (ioc.status_code, ioc.json()["status"], ioc.json()["time_in_force"]) == (201, "EXPIRED", "IOC")
    market = alice_api.post("/paper/api/orders", order_body("m", time_in_force="IOC"), format="json")
    assert market.status_code == 400 and "time_in_force" in market.json()["error"]["fields"]


def test_the_orders_page_shows_filled_average_price_and_fee_and_the_trades_page_each_fill(mark, alice_web, fees):
    place_on_page(alice_web, client_order_id="td-page", qty="0.1")
    orders = alice_web.get("/paper/orders").content.decode()
    assert 'data-filled-qty="0.1" data-avg-price="65000" data-fee="13" data-fee-asset="USDT"' in orders
    assert ">13 USDT<" in orders
    trades = alice_web.get("/paper/trades").content.decode()
    trade = PaperTrade.objects.get()
    assert f'data-trade-id="{trade.trade_id}"' in trades and 'data-client-order-id="td-page"' in trades
    assert 'data-qty="0.1" data-price="65000" data-fee="13"' in trades


def test_the_trades_page_shows_only_the_accounts_own_fills(mark, alice_web, bob):
    place(bob, "bob-1", qty=Decimal("0.001"))
    assert "bob-1" not in alice_web.get("/paper/trades").content.decode()
    assert PaperOrder.objects.filter(client_order_id="bob-1").exists()


def test_the_cancel_button_cancels_a_partly_filled_order_and_keeps_its_fill(mark, alice_web, alice):
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.2"))
    place_on_page(alice_web, client_order_id="td-part", order_type="LIMIT", price="60000", qty="0.5")
    mark("BTC-USDT", "59000")
    order = PaperOrder.objects.get(client_order_id="td-part")
    page = alice_web.get("/paper/orders").content.decode()
    assert f'data-testid="order-cancel" data-order-id="{order.order_id}"' in page
    alice_web.post(f"/paper/orders/{order.order_id}/cancel")
    order.refresh_from_db()
    assert (order.status, order.filled_qty) == (OrderStatus.CANCELED, Decimal("0.2"))
    assert balance(alice, "USDT") == (Decimal("100000") - Decimal("12000"), Decimal("0"))


def test_a_lost_cancel_reply_cancels_then_times_out_and_the_lookup_shows_it_canceled(mark, alice, alice_api, slept):
    alice_api.post("/paper/api/orders", order_body("rest", type="LIMIT", price="60000", qty="0.5"), format="json")
    services.paper_fault_set(account=alice.account, kind="lost_cancel_reply", value="5", once=True)
    lost = alice_api.post("/paper/api/orders/by-client-id/rest/cancel")
    assert (lost.status_code, lost.json()["error"]["code"]) == (504, "GATEWAY_TIMEOUT")
    assert slept == [5.0]
    assert alice_api.get("/paper/api/orders/by-client-id/rest").json()["status"] == "CANCELED"


def test_a_lost_cancel_reply_on_the_page_is_a_504_after_the_cancel(mark, alice, alice_web):
    place_on_page(alice_web, client_order_id="td-web", order_type="LIMIT", price="60000")
    order = PaperOrder.objects.get(client_order_id="td-web")
    services.paper_fault_set(account=alice.account, kind="lost_cancel_reply", value="2", once=True)
    assert alice_web.post(f"/paper/orders/{order.order_id}/cancel").status_code == 504
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED


def test_canceling_a_rejected_order_for_an_unknown_symbol_is_409_not_a_500(mark, alice_api):
    alice_api.post("/paper/api/orders", order_body("doge", symbol="DOGE-USDT"), format="json")
    response = alice_api.post("/paper/api/orders/by-client-id/doge/cancel")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "ORDER_NOT_OPEN")


def test_an_order_whose_fill_cannot_be_booked_does_not_stop_the_others(mark, alice, monkeypatch):
    from django.db import IntegrityError

    from executor.paper.services import orders as order_services

    broken = place(alice, "broken", **limit("60000", "0.1"))
    fine = place(alice, "fine", **limit("59500", "0.1"))
    real_execute = order_services.execute

    def execute(order, *args, **kwargs):
        if order.pk == broken.pk:
            raise IntegrityError("paper_balance_not_negative")
        return real_execute(order, *args, **kwargs)

    monkeypatch.setattr(order_services, "execute", execute)
    mark("BTC-USDT", "59000")
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert (broken.status, fine.status) == (OrderStatus.NEW, OrderStatus.FILLED)
    assert balance(alice, "USDT")[1] == Decimal("6000")
