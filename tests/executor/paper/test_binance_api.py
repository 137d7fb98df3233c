"""The Binance Spot REST v3 subset, over real HTTP against the live test server: shapes, signatures,
timestamps, filters, error codes, response types, fills and faults (binance-spot-api-docs)."""

from decimal import Decimal

import pytest

from executor.paper import services
from executor.paper.binance.wire import weights
from executor.paper.models import OrderStatus, PaperOrder, PaperTrade
from tests.executor.paper.binance_client import BinanceClient, now_ms, sign
from tests.executor.paper.conftest import make_trader

pytestmark = pytest.mark.django_db(transaction=True)

ORDER_RESULT_KEYS = {
    "symbol",
    "orderId",
    "orderListId",
    "clientOrderId",
    "transactTime",
    "price",
    "origQty",
    "executedQty",
    "origQuoteOrderQty",
    "cummulativeQuoteQty",
    "status",
    "timeInForce",
    "type",
    "side",
    "workingTime",
    "selfTradePreventionMode",
}


@pytest.fixture
def venue(live_server, paper_instruments, settings):
    settings.PAPER_MAKER_FEE_RATE = Decimal("0.001")
    settings.PAPER_TAKER_FEE_RATE = Decimal("0.002")
    services.paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    services.paper_price_set(symbol="ETH-USDT", price=Decimal("3000"))
    return live_server.url


@pytest.fixture
def trader(venue):
    alice = make_trader("alice", USDT="100000", BTC="1")
    _, api_key, secret = services.paper_binance_key_create(account=alice.account)
    return alice, BinanceClient(venue, api_key, secret)


def error(response) -> tuple[int, int, str]:
    body = response.json()
    return response.status_code, body["code"], body["msg"]


def test_ping_time_and_the_weight_header(venue):
    client = BinanceClient(venue)
    ping = client.public("/ping")
    assert (ping.status_code, ping.json()) == (200, {})
    assert int(ping.headers["X-MBX-USED-WEIGHT-1M"]) >= 1
    assert abs(client.public("/time").json()["serverTime"] - now_ms()) < 5000


def test_exchange_info_lists_each_symbol_with_its_filters_in_binances_words(venue):
    info = BinanceClient(venue).public("/exchangeInfo").json()
    assert info["timezone"] == "UTC" and {limit["rateLimitType"] for limit in info["rateLimits"]} >= {
        "REQUEST_WEIGHT",
        "ORDERS",
    }
    btc = next(symbol for symbol in info["symbols"] if symbol["symbol"] == "BTCUSDT")
    assert (btc["status"], btc["baseAsset"], btc["quoteAsset"], btc["baseAssetPrecision"]) == (
        "TRADING",
        "BTC",
        "USDT",
        8,
    )
    assert btc["orderTypes"] == ["LIMIT", "MARKET"] and btc["permissionSets"] == [["SPOT"]]
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"] == {
        "filterType": "PRICE_FILTER",
        "minPrice": "0.01000000",
        "maxPrice": "1000000.00000000",
        "tickSize": "0.01000000",
    }
    assert (filters["LOT_SIZE"]["minQty"], filters["LOT_SIZE"]["stepSize"]) == ("0.00010000", "0.00010000")
    assert filters["MARKET_LOT_SIZE"]["stepSize"] == "0.00010000"
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000" and filters["NOTIONAL"]["applyMinToMarket"] is True
    one = BinanceClient(venue).public("/exchangeInfo", symbol="ETHUSDT").json()
    assert [symbol["symbol"] for symbol in one["symbols"]] == ["ETHUSDT"]
    many = BinanceClient(venue).public("/exchangeInfo", symbols='["ETHUSDT","BTCUSDT"]').json()
    assert [symbol["symbol"] for symbol in many["symbols"]] == ["ETHUSDT", "BTCUSDT"]


def test_an_unknown_symbol_is_1121_and_a_malformed_one_1100(venue):
    client = BinanceClient(venue)
    assert error(client.public("/ticker/price", symbol="DOGEUSDT")) == (400, -1121, "Invalid symbol.")
    assert error(client.public("/exchangeInfo", symbol="DOGEUSDT"))[1] == -1121
    assert error(client.public("/depth", symbol="btc usdt"))[:2] == (400, -1100)
    assert error(client.public("/depth"))[:2] == (400, -1102)


def test_tickers_and_depth_show_the_mark(venue):
    client = BinanceClient(venue)
    assert client.public("/ticker/price", symbol="BTCUSDT").json() == {"symbol": "BTCUSDT", "price": "65000.00000000"}
    assert {row["symbol"] for row in client.public("/ticker/price").json()} == {"BTCUSDT", "ETHUSDT"}
    book = client.public("/ticker/bookTicker", symbol="BTCUSDT").json()
    assert (book["bidPrice"], book["askPrice"]) == ("65000.00000000", "65000.00000000")
    day = client.public("/ticker/24hr", symbol="BTCUSDT").json()
    assert day["lastPrice"] == "65000.00000000" and day["count"] == 0
    depth = client.public("/depth", symbol="BTCUSDT", limit=5).json()
    assert depth["bids"][0][0] == "65000.00000000" and depth["asks"][0][0] == "65000.00000000"


def test_a_signed_call_without_a_key_is_2014_and_with_an_unknown_key_2015(trader):
    _, client = trader
    assert error(client.signed("GET", "/account", api_key=None)) == (401, -2014, "API-key format invalid.")
    assert error(client.signed("GET", "/account", api_key="short")) == (401, -2014, "API-key format invalid.")
    unknown = "A" * 64
    assert error(client.signed("GET", "/account", api_key=unknown)) == (
        401,
        -2015,
        "Invalid API-key, IP, or permissions for action.",
    )


def test_a_wrong_signature_is_1022(trader):
    _, client = trader
    assert error(client.signed("GET", "/account", secret="not-the-secret")) == (
        400,
        -1022,
        "Signature for this request is not valid.",
    )
    assert error(client.signed("GET", "/account", signature="zz"))[1] == -1022
    assert not PaperOrder.objects.exists()
    assert error(client.order(secret="not-the-secret"))[1] == -1022
    assert not PaperOrder.objects.exists()


def test_a_stale_or_future_timestamp_is_1021_and_recv_window_is_honoured(trader):
    _, client = trader
    stale = now_ms() - 6000
    assert error(client.signed("GET", "/account", timestamp=stale)) == (
        400,
        -1021,
        "Timestamp for this request is outside of the recvWindow.",
    )
    assert client.signed("GET", "/account", timestamp=stale, recvWindow=10000).status_code == 200
    ahead = now_ms() + 120_000
    assert error(client.signed("GET", "/account", timestamp=ahead)) == (
        400,
        -1021,
        "Timestamp for this request was 1000ms ahead of the server's time.",
    )
    assert error(client.signed("GET", "/account", recvWindow=60001))[:2] == (400, -1131)


def test_timestamp_and_signature_are_mandatory(trader):
    _, client = trader
    response = client.http.get("/account", params={"timestamp": now_ms()}, headers={"X-MBX-APIKEY": client.api_key})
    assert error(response) == (
        400,
        -1102,
        "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
    )
    query = "recvWindow=5000"
    response = client.http.get(
        f"/account?{query}&signature={sign(client.secret, query)}", headers={"X-MBX-APIKEY": client.api_key}
    )
    assert error(response)[1:] == (-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")


def test_the_signature_may_cover_the_query_the_body_or_both(trader):
    _, client = trader
    for number, where in enumerate(("query", "body", "mixed")):
        response = client.signed(
            "POST",
            "/order",
            where=where,
            symbol="BTCUSDT",
            side="BUY",
            type="MARKET",
            quantity="0.01",
            newClientOrderId=f"sig-{number}",
        )
        assert response.status_code == 200, response.text
    assert PaperOrder.objects.count() == 3


def test_the_account_shows_commissions_and_balances_as_decimal_strings(trader):
    _, client = trader
    account = client.signed("GET", "/account").json()
    assert (account["makerCommission"], account["takerCommission"], account["accountType"]) == (10, 20, "SPOT")
    assert account["commissionRates"]["taker"] == "0.00200000" and account["canTrade"] is True
    balances = {row["asset"]: (row["free"], row["locked"]) for row in account["balances"]}
    assert balances["USDT"] == ("100000.00000000", "0.00000000") and balances["BTC"][0] == "1.00000000"


def test_a_market_order_answers_full_with_its_fills_and_commission(trader):
    alice, client = trader
    response = client.order(newClientOrderId="td-full")
    assert response.status_code == 200, response.text
    body = response.json()
    order = PaperOrder.objects.get(client_order_id="td-full")
    trade = PaperTrade.objects.get(order=order)
    assert set(body) == ORDER_RESULT_KEYS | {"fills"}
    assert body["orderId"] == order.pk and body["clientOrderId"] == "td-full" and body["orderListId"] == -1
    assert (body["status"], body["type"], body["side"], body["price"]) == ("FILLED", "MARKET", "BUY", "0.00000000")
    assert (body["origQty"], body["executedQty"], body["cummulativeQuoteQty"]) == (
        "0.10000000",
        "0.10000000",
        "6500.00000000",
    )
    assert body["fills"] == [
        {
            "price": "65000.00000000",
            "qty": "0.10000000",
            "commission": "13.00000000",
            "commissionAsset": "USDT",
            "tradeId": trade.pk,
        }
    ]


def test_ack_and_result_are_the_shorter_shapes(trader):
    _, client = trader
    ack = client.order(newClientOrderId="td-ack", newOrderRespType="ACK").json()
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    result = client.order(newClientOrderId="td-result", newOrderRespType="RESULT").json()
    assert set(result) == ORDER_RESULT_KEYS and result["status"] == "FILLED"
    assert error(client.order(newClientOrderId="td-x", newOrderRespType="LOUD"))[:2] == (400, -1100)


def test_a_limit_order_rests_is_found_listed_and_canceled(trader):
    _, client = trader
    placed = client.order(type="LIMIT", timeInForce="GTC", price="60000", quantity="0.5", newClientOrderId="td-lim")
    assert placed.json()["status"] == "NEW" and placed.json()["fills"] == []
    order_id = placed.json()["orderId"]
    by_id = client.signed("GET", "/order", symbol="BTCUSDT", orderId=order_id).json()
    by_client_id = client.signed("GET", "/order", symbol="BTCUSDT", origClientOrderId="td-lim").json()
    assert by_id == by_client_id
    assert (by_id["status"], by_id["price"], by_id["timeInForce"], by_id["isWorking"]) == (
        "NEW",
        "60000.00000000",
        "GTC",
        True,
    )
    assert [o["clientOrderId"] for o in client.signed("GET", "/openOrders", symbol="BTCUSDT").json()] == ["td-lim"]
    assert [o["orderId"] for o in client.signed("GET", "/openOrders").json()] == [order_id]
    canceled = client.signed("DELETE", "/order", symbol="BTCUSDT", origClientOrderId="td-lim", newClientOrderId="c-1")
    assert canceled.status_code == 200, canceled.text
    assert (canceled.json()["status"], canceled.json()["origClientOrderId"], canceled.json()["clientOrderId"]) == (
        "CANCELED",
        "td-lim",
        "c-1",
    )
    assert client.signed("GET", "/openOrders", symbol="BTCUSDT").json() == []
    assert error(client.signed("DELETE", "/order", symbol="BTCUSDT", orderId=order_id)) == (
        400,
        -2011,
        "Unknown order sent.",
    )


def test_an_unknown_order_is_2013_to_query_and_2011_to_cancel(trader):
    _, client = trader
    assert error(client.signed("GET", "/order", symbol="BTCUSDT", origClientOrderId="never")) == (
        400,
        -2013,
        "Order does not exist.",
    )
    assert error(client.signed("DELETE", "/order", symbol="BTCUSDT", orderId=424242)) == (
        400,
        -2011,
        "Unknown order sent.",
    )
    assert error(client.signed("GET", "/order", symbol="BTCUSDT"))[1:] == (
        -1102,
        "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
    )


def test_other_accounts_orders_are_unknown(trader, venue):
    _, client = trader
    bob = make_trader("bob", USDT="1000")
    services.paper_order_place(
        account=bob.account,
        client_order_id="bob-1",
        symbol="BTC-USDT",
        side="BUY",
        order_type="MARKET",
        qty=Decimal("0.001"),
    )
    assert error(client.signed("GET", "/order", symbol="BTCUSDT", origClientOrderId="bob-1"))[1] == -2013
    assert client.signed("GET", "/allOrders", symbol="BTCUSDT").json() == []


@pytest.mark.parametrize(
    ("params", "filter_type"),
    [
        ({"type": "LIMIT", "timeInForce": "GTC", "price": "60000.005", "quantity": "0.1"}, "PRICE_FILTER"),
        ({"type": "LIMIT", "timeInForce": "GTC", "price": "0.001", "quantity": "0.1"}, "PRICE_FILTER"),
        ({"type": "LIMIT", "timeInForce": "GTC", "price": "2000000", "quantity": "0.1"}, "PRICE_FILTER"),
        ({"type": "LIMIT", "timeInForce": "GTC", "price": "60000", "quantity": "0.00005"}, "LOT_SIZE"),
        ({"type": "LIMIT", "timeInForce": "GTC", "price": "60000", "quantity": "0.00015"}, "LOT_SIZE"),
        ({"type": "LIMIT", "timeInForce": "GTC", "price": "60000", "quantity": "10000"}, "LOT_SIZE"),
        ({"type": "MARKET", "quantity": "0.00005"}, "MARKET_LOT_SIZE"),
        ({"type": "LIMIT", "timeInForce": "GTC", "price": "40000", "quantity": "0.0001"}, "NOTIONAL"),
        ({"type": "MARKET", "quantity": None, "quoteOrderQty": "4"}, "MARKET_LOT_SIZE"),
        ({"type": "MARKET", "quantity": None, "quoteOrderQty": "4.5", "symbol": "ETHUSDT"}, "NOTIONAL"),
    ],
)
def test_each_filter_refuses_with_1013_naming_it_and_stores_nothing(trader, params, filter_type):
    _, client = trader
    assert error(client.order(**params)) == (400, -1013, f"Filter failure: {filter_type}")
    assert not PaperOrder.objects.exists()


def test_an_unaffordable_order_is_2010_insufficient_balance(trader):
    _, client = trader
    assert error(client.order(quantity="2", newClientOrderId="td-big")) == (
        400,
        -2010,
        "Account has insufficient balance for requested action.",
    )
    assert error(client.order(side="SELL", quantity="1.5"))[1] == -2010
    assert not PaperTrade.objects.exists()


def test_a_duplicate_new_client_order_id_is_2010_and_places_nothing_more(trader):
    _, client = trader
    assert client.order(newClientOrderId="td-once").status_code == 200
    assert error(client.order(newClientOrderId="td-once")) == (400, -2010, "Duplicate order sent.")
    assert PaperOrder.objects.filter(client_order_id="td-once").count() == 1
    assert PaperTrade.objects.count() == 1


@pytest.mark.parametrize(
    ("params", "code", "msg"),
    [
        ({"symbol": ""}, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."),
        ({"side": ""}, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed."),
        (
            {"type": "LIMIT", "price": "60000"},
            -1102,
            "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
        ),
        (
            {"type": "LIMIT", "timeInForce": "GTC"},
            -1102,
            "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
        ),
        (
            {"type": "LIMIT", "timeInForce": "GTC", "price": "1", "quantity": ""},
            -1102,
            "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
        ),
        ({"quantity": ""}, -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"),
        ({"price": "60000"}, -1106, "Parameter 'price' sent when not required."),
        ({"timeInForce": "GTC"}, -1106, "Parameter 'timeInForce' sent when not required."),
        ({"quoteOrderQty": "100"}, -1106, "Parameter 'quoteOrderQty' sent when not required."),
        ({"type": "STOP"}, -1116, "Invalid orderType."),
        ({"side": "HOLD"}, -1117, "Invalid side."),
        ({"type": "LIMIT", "timeInForce": "GTD", "price": "1"}, -1115, "Invalid timeInForce."),
        (
            {"quantity": "0,1"},
            -1100,
            "Illegal characters found in parameter 'quantity'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
        ),
        ({"quantity": "0.123456789"}, -1111, "Parameter 'quantity' has too much precision."),
        (
            {"newClientOrderId": "has space"},
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
        ),
        ({"symbol": "DOGEUSDT"}, -1121, "Invalid symbol."),
    ],
)
def test_malformed_orders_get_binances_codes_and_words(trader, params, code, msg):
    _, client = trader
    assert error(client.order(**params)) == (400, code, msg)
    assert not PaperOrder.objects.exists()


def test_duplicate_parameters_are_1101(trader):
    _, client = trader
    payload = f"symbol=BTCUSDT&symbol=ETHUSDT&timestamp={now_ms()}"
    response = client.http.get(
        f"/openOrders?{payload}&signature={sign(client.secret, payload)}", headers={"X-MBX-APIKEY": client.api_key}
    )
    assert error(response)[:2] == (400, -1101)


def test_a_market_order_by_quote_amount_buys_what_it_can(trader):
    _, client = trader
    body = client.order(quantity=None, quoteOrderQty="1000").json()
    assert (body["status"], body["executedQty"], body["origQuoteOrderQty"]) == ("FILLED", "0.01530000", "1000.00000000")


def test_ioc_and_fok_expire_what_cannot_fill_at_once(trader):
    _, client = trader
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.2"))
    ioc = client.order(type="LIMIT", timeInForce="IOC", price="66000", quantity="0.5", newClientOrderId="ioc").json()
    assert (ioc["status"], ioc["executedQty"], len(ioc["fills"])) == ("EXPIRED", "0.20000000", 1)
    services.paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    fok = client.order(type="LIMIT", timeInForce="FOK", price="66000", quantity="0.5", newClientOrderId="fok").json()
    assert (fok["status"], fok["executedQty"], fok["fills"]) == ("EXPIRED", "0.00000000", [])


def test_my_trades_lists_each_fill_of_a_partly_then_fully_filled_order(trader):
    _, client = trader
    services.paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.2"))
    order_id = client.order(
        type="LIMIT", timeInForce="GTC", price="60000", quantity="0.3", newClientOrderId="td-part"
    ).json()["orderId"]
    services.paper_price_set(symbol="BTC-USDT", price=Decimal("59000"))
    partly = client.signed("GET", "/order", symbol="BTCUSDT", orderId=order_id).json()
    assert (partly["status"], partly["executedQty"]) == ("PARTIALLY_FILLED", "0.20000000")
    services.paper_price_set(symbol="BTC-USDT", price=Decimal("59000"))
    trades = client.signed("GET", "/myTrades", symbol="BTCUSDT").json()
    assert [(t["orderId"], t["qty"], t["price"], t["commission"], t["isMaker"], t["isBuyer"]) for t in trades] == [
        (order_id, "0.20000000", "60000.00000000", "12.00000000", True, True),
        (order_id, "0.10000000", "60000.00000000", "6.00000000", True, True),
    ]
    assert trades[0]["quoteQty"] == "12000.00000000" and trades[0]["commissionAsset"] == "USDT"
    assert [t["id"] for t in client.signed("GET", "/myTrades", symbol="BTCUSDT", fromId=trades[1]["id"]).json()] == [
        trades[1]["id"]
    ]
    assert len(client.signed("GET", "/myTrades", symbol="BTCUSDT", orderId=order_id, limit=1).json()) == 1
    done = client.signed("GET", "/order", symbol="BTCUSDT", orderId=order_id).json()
    assert (done["status"], done["cummulativeQuoteQty"]) == ("FILLED", "18000.00000000")


def test_all_orders_lists_every_order_oldest_first(trader):
    _, client = trader
    client.order(newClientOrderId="a-1")
    client.order(type="LIMIT", timeInForce="GTC", price="60000", quantity="0.1", newClientOrderId="a-2")
    orders = client.signed("GET", "/allOrders", symbol="BTCUSDT").json()
    assert [(o["clientOrderId"], o["status"]) for o in orders] == [("a-1", "FILLED"), ("a-2", "NEW")]
    assert [o["clientOrderId"] for o in client.signed("GET", "/allOrders", symbol="BTCUSDT", limit=1).json()] == ["a-2"]


def test_delete_open_orders_cancels_every_open_order_of_the_symbol(trader):
    _, client = trader
    for number in range(2):
        client.order(type="LIMIT", timeInForce="GTC", price="60000", quantity="0.1", newClientOrderId=f"o-{number}")
    canceled = client.signed("DELETE", "/openOrders", symbol="BTCUSDT").json()
    assert sorted((o["origClientOrderId"], o["status"]) for o in canceled) == [("o-0", "CANCELED"), ("o-1", "CANCELED")]
    assert error(client.signed("DELETE", "/openOrders", symbol="BTCUSDT"))[1] == -2011


def test_a_lost_reply_is_a_1007_after_the_order_is_stored_once(trader, slept):
    alice, client = trader
    services.paper_fault_set(account=alice.account, kind="lost_reply", value="3", once=True)
    assert error(client.order(newClientOrderId="td-lost")) == (
        503,
        -1007,
        "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
    )
    assert slept == [3.0]
    found = client.signed("GET", "/order", symbol="BTCUSDT", origClientOrderId="td-lost").json()
    assert found["status"] == "FILLED"
    assert error(client.order(newClientOrderId="td-lost"))[1:] == (-2010, "Duplicate order sent.")
    assert PaperOrder.objects.filter(client_order_id="td-lost").count() == 1


def test_an_injected_rejection_is_2010_with_its_reason_and_slow_slows_signed_calls(trader, slept):
    alice, client = trader
    services.paper_fault_set(account=alice.account, kind="reject", value="RISK:Market closed for you.", once=True)
    assert error(client.order(newClientOrderId="td-rej")) == (400, -2010, "Market closed for you.")
    assert PaperOrder.objects.get(client_order_id="td-rej").status == OrderStatus.REJECTED
    services.paper_fault_set(account=alice.account, kind="slow", value="250", once=True)
    assert client.signed("GET", "/account").status_code == 200
    assert slept == [0.25]


def test_over_the_request_weight_limit_is_a_429_with_retry_after_and_nothing_is_done(trader, settings):
    _, client = trader
    settings.PAPER_BINANCE_WEIGHT_LIMIT = 41
    weights.clear()
    info = client.public("/exchangeInfo")  # weight 20
    limit = next(rule for rule in info.json()["rateLimits"] if rule["rateLimitType"] == "REQUEST_WEIGHT")
    assert (limit["interval"], limit["intervalNum"], limit["limit"]) == ("MINUTE", 1, 41)
    assert client.signed("GET", "/account").headers["X-MBX-USED-WEIGHT-1M"] == "40"  # weight 20
    assert client.order(newClientOrderId="td-at").headers["X-MBX-USED-WEIGHT-1M"] == "41"  # at the limit
    over = client.order(newClientOrderId="td-over")
    assert error(over) == (
        429,
        -1003,
        "Too much request weight used; current limit is 41 request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
    )
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert not PaperOrder.objects.filter(client_order_id="td-over").exists()
    assert error(client.public("/ping"))[:2] == (429, -1003)  # per address, public calls too
    weights.clear()  # the next minute
    assert client.order(newClientOrderId="td-over").status_code == 200
    assert PaperOrder.objects.filter(client_order_id="td-over").count() == 1


def test_the_rate_limited_fault_refuses_signed_calls_with_its_retry_after_before_acting(trader):
    alice, client = trader
    services.paper_fault_set(account=alice.account, kind="rate_limited", value="7", once=True)
    refused = client.order(newClientOrderId="td-429")
    assert (refused.status_code, refused.json()["code"], refused.headers["Retry-After"]) == (429, -1003, "7")
    assert not PaperOrder.objects.filter(client_order_id="td-429").exists()
    assert client.order(newClientOrderId="td-429").status_code == 200  # once: the next call is served
    assert PaperOrder.objects.filter(client_order_id="td-429").count() == 1
    assert client.public("/ping").status_code == 200  # public calls have no account: never faulted


def test_order_test_validates_without_placing(trader):
    _, client = trader
    response = client.signed("POST", "/order/test", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.1")
    assert (response.status_code, response.json()) == (200, {})
    assert (
        error(client.signed("POST", "/order/test", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.00001"))[1]
        == -1013
    )
    assert not PaperOrder.objects.exists()


def test_unknown_paths_and_methods_answer_binance_style_json(trader, venue):
    client = BinanceClient(venue)
    assert client.public("/klines").status_code == 404 and client.public("/klines").json()["code"] == -1000
    assert client.http.post("/ping").status_code == 405


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/account"),
        ("POST", "/order"),
        ("POST", "/order/test"),
        ("GET", "/order"),
        ("DELETE", "/order"),
        ("GET", "/openOrders"),
        ("DELETE", "/openOrders"),
        ("GET", "/allOrders"),
        ("GET", "/myTrades"),
    ],
)
def test_every_signed_endpoint_refuses_a_call_without_a_key_or_with_a_revoked_one(trader, method, path):
    alice, client = trader
    assert error(client.signed(method, path, api_key=None, symbol="BTCUSDT"))[:2] == (401, -2014)
    services.paper_binance_key_revoke(key=alice.account.binance_keys.get())
    assert error(client.signed(method, path, symbol="BTCUSDT"))[:2] == (401, -2015)


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/order", {"symbol": "BTCUSDT", "orderId": "9999999999999999999"}),
        ("GET", "/order", {"symbol": "BTCUSDT", "orderId": "99999999999999999999"}),
        ("DELETE", "/order", {"symbol": "BTCUSDT", "orderId": "-1"}),
        ("GET", "/allOrders", {"symbol": "BTCUSDT", "startTime": "9999999999999999999"}),
        ("GET", "/myTrades", {"symbol": "BTCUSDT", "endTime": "99999999999999", "limit": "5000"}),
        ("GET", "/myTrades", {"symbol": "BTCUSDT", "fromId": "x"}),
        ("POST", "/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "1e5"}),
        (
            "POST",
            "/order",
            {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quoteOrderQty": "99999999999999999999"},
        ),
        (
            "POST",
            "/order",
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "1",
                "price": "99999999999999999999.99999999",
            },
        ),
        ("GET", "/account", {"recvWindow": "99999999999999999999"}),
    ],
)
def test_junk_parameters_answer_a_binance_error_never_a_500(trader, method, path, params):
    _, client = trader
    response = client.signed(method, path, **params)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["code"] < 0


@pytest.mark.parametrize("symbols", ["[" * 1500 + "]" * 1500, "[" * 5000, '["BTCUSDT", 1]', "{}", "nope"])
def test_junk_symbol_lists_answer_1100(venue, symbols):
    response = BinanceClient(venue).public("/exchangeInfo", symbols=symbols)
    assert (response.status_code, response.json()["code"]) == (400, -1100)


def test_a_body_that_is_not_utf8_is_no_500(trader):
    _, client = trader
    response = client.http.post(
        "/order", content=b"\xff\xfe\x00symbol=BTCUSDT", headers={"X-MBX-APIKEY": client.api_key}
    )
    assert 400 <= response.status_code < 500


def test_a_lost_cancel_reply_is_1007_after_the_cancel(trader, slept):
    alice, client = trader
    client.order(type="LIMIT", timeInForce="GTC", price="60000", quantity="0.1", newClientOrderId="td-c")
    services.paper_fault_set(account=alice.account, kind="lost_cancel_reply", value="4", once=True)
    assert error(client.signed("DELETE", "/order", symbol="BTCUSDT", origClientOrderId="td-c"))[:2] == (503, -1007)
    assert slept == [4.0]
    assert client.signed("GET", "/order", symbol="BTCUSDT", origClientOrderId="td-c").json()["status"] == "CANCELED"


def test_an_order_id_and_a_client_order_id_that_name_different_orders_find_nothing(trader):
    _, client = trader
    first = client.order(newClientOrderId="first").json()["orderId"]
    client.order(newClientOrderId="second")
    assert client.signed("GET", "/order", symbol="BTCUSDT", orderId=first, origClientOrderId="first").status_code == 200
    mismatch = client.signed("GET", "/order", symbol="BTCUSDT", orderId=first, origClientOrderId="second")
    assert error(mismatch)[1] == -2013


def test_a_body_over_the_size_limit_is_a_json_413(trader, settings):
    _, client = trader
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.order(newClientOrderId="x" * 10, junk="y" * 5000)
    assert (response.status_code, response.json()["code"]) == (413, -1000)
