"""The Binance dialect's WebSocket API User Data Stream (binance-spot-api-docs web-socket-api.md,
user-data-stream.md): the requests and their errors, the events of the subscribed account only and
only after commit, through Channels' test communicator; then ccxt.pro's own, unmodified `binance`
class on a real socket against uvicorn (`asgi_server`)."""

import asyncio
import copy
from dataclasses import dataclass
from decimal import Decimal

import ccxt.pro as ccxtpro
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from executor.paper import services
from executor.paper.models import PaperAccount, PaperOrder
from tests.asgi_server import asgi_server  # noqa: F401
from tests.executor.paper.binance_client import now_ms, sign
from tests.executor.paper.conftest import Trader, order_body
from tradedesk.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/paper/binance/ws-api/v3"
TIMEOUT = 5
EXECUTION_REPORT_KEYS = set("eEscSofqpPFgCxXrilzLnNTtIwmMOZYQWV")


@dataclass
class Keyed:
    """A persona with a Binance-style API key and secret."""

    trader: Trader
    api_key: str
    secret: str

    @property
    def account(self) -> PaperAccount:
        return self.trader.account


def keyed(trader: Trader) -> Keyed:
    _, api_key, secret = services.paper_binance_key_create(account=trader.account)
    return Keyed(trader, api_key, secret)


@pytest.fixture
def venue(paper_instruments) -> None:
    services.paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))


@pytest.fixture
def alice_key(venue, alice) -> Keyed:
    return keyed(alice)


@pytest.fixture
def bob_key(venue, bob) -> Keyed:
    """bob holds USDT 1000: his orders here are 0.01 BTC."""
    return keyed(bob)


def signed(api_key: str, secret: str, **overrides) -> dict:
    """The subscribe params, signed as Binance's WebSocket API defines: the other params sorted by name."""
    params = {"apiKey": api_key, "timestamp": now_ms(), **overrides}
    params = {name: value for name, value in params.items() if value is not None}
    params["signature"] = sign(secret, "&".join(f"{name}={value}" for name, value in sorted(params.items())))
    return params


def tampered(params: dict) -> dict:
    """The signed params with their timestamp changed after signing. (Not `now_ms() - 1`: a
    millisecond after signing, that is the signed timestamp again, and the signature holds.)"""
    return {**params, "timestamp": params["timestamp"] - 1}


async def connect() -> WebsocketCommunicator:
    # No Origin header and no session, as an API client connects.
    communicator = WebsocketCommunicator(application, PATH)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def call(communicator: WebsocketCommunicator, method: str, params: dict | None = None, id="r1") -> dict:
    request = {"id": id, "method": method, **({} if params is None else {"params": params})}
    await communicator.send_json_to(request)
    return await communicator.receive_json_from(timeout=TIMEOUT)


async def subscribe(communicator: WebsocketCommunicator, keys: Keyed) -> int:
    answer = await call(communicator, "userDataStream.subscribe.signature", signed(keys.api_key, keys.secret))
    assert answer["status"] == 200, answer
    return answer["result"]["subscriptionId"]


async def next_event(communicator: WebsocketCommunicator) -> tuple[int, dict]:
    frame = await communicator.receive_json_from(timeout=TIMEOUT)
    return frame["subscriptionId"], frame["event"]


def place(account, client_order_id: str, **fields) -> PaperOrder:
    values = {"symbol": "BTC-USDT", "side": "BUY", "order_type": "MARKET", "qty": Decimal("0.1"), **fields}
    return services.paper_order_place(account=account, client_order_id=client_order_id, **values)


async def test_ping_time_and_an_unknown_method(alice_key):
    communicator = await connect()
    assert await call(communicator, "ping", id=7) == {"id": 7, "status": 200, "result": {}}
    answer = await call(communicator, "v3/time", id=None)
    assert (answer["id"], answer["status"]) == (None, 200)
    assert abs(answer["result"]["serverTime"] - now_ms()) < 5000
    answer = await call(communicator, "order.place", {"symbol": "BTCUSDT"})
    assert answer == {
        "id": "r1",
        "status": 400,
        "error": {"code": -1020, "msg": "This operation is not supported."},
    }
    await communicator.disconnect()


async def test_malformed_requests_are_answered_with_a_null_id():
    communicator = await connect()
    await communicator.send_to(text_data='{"id": 1, "method": ')
    answer = await communicator.receive_json_from(timeout=TIMEOUT)
    assert (answer["id"], answer["status"], answer["error"]["code"]) == (None, 400, -1135)
    answer = await call(communicator, "", id=2)
    assert (answer["id"], answer["error"]["code"]) == (2, -1102)
    await communicator.send_json_to({"id": 3, "method": "ping", "params": [1]})
    assert (await communicator.receive_json_from(timeout=TIMEOUT))["error"]["code"] == -1102
    await communicator.disconnect()


async def test_a_signed_subscribe_gets_subscription_zero_and_the_session_lists_it(alice_key):
    communicator = await connect()
    answer = await call(
        communicator, "userDataStream.subscribe.signature", signed(alice_key.api_key, alice_key.secret), id=42
    )
    assert answer == {"id": 42, "status": 200, "result": {"subscriptionId": 0}}
    assert (await call(communicator, "session.subscriptions"))["result"] == [{"subscriptionId": 0}]
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        (lambda key, secret: signed("short", secret), 401, -2014),
        (lambda key, secret: signed("A" * 64, secret), 401, -2015),
        (lambda key, secret: {"timestamp": now_ms(), "signature": "0" * 64}, 400, -1102),
        (lambda key, secret: {"apiKey": key, "timestamp": now_ms()}, 400, -1102),
        (lambda key, secret: {"apiKey": key, "signature": sign(secret, f"apiKey={key}")}, 400, -1102),
        (lambda key, secret: signed(key, secret, recvWindow=60001), 400, -1131),
        (lambda key, secret: signed(key, "wrong-secret"), 400, -1022),
        (lambda key, secret: tampered(signed(key, secret)), 400, -1022),
        (lambda key, secret: signed(key, secret, timestamp=now_ms() + 5000), 400, -1021),
        (lambda key, secret: signed(key, secret, timestamp=now_ms() - 6000), 400, -1021),
        (lambda key, secret: signed(key, secret, timestamp="soon"), 400, -1100),
    ],
    ids=[
        "bad key format",
        "unknown key",
        "no api key",
        "no signature",
        "no timestamp",
        "recvWindow over 60000",
        "wrong secret",
        "params changed after signing",
        "timestamp ahead",
        "timestamp older than recvWindow",
        "timestamp not a number",
    ],
)
async def test_a_subscribe_is_checked_as_a_signed_rest_call_is(alice_key, change, status, code):
    communicator = await connect()
    answer = await call(communicator, "userDataStream.subscribe.signature", change(alice_key.api_key, alice_key.secret))
    assert (answer["id"], answer["status"], answer["error"]["code"]) == ("r1", status, code), answer
    assert (await call(communicator, "session.subscriptions"))["result"] == []
    await communicator.disconnect()


async def test_a_longer_recv_window_accepts_an_older_timestamp(alice_key):
    communicator = await connect()
    params = signed(alice_key.api_key, alice_key.secret, timestamp=now_ms() - 6000, recvWindow=10000)
    assert (await call(communicator, "userDataStream.subscribe.signature", params))["status"] == 200
    await communicator.disconnect()


async def test_one_subscription_per_account_per_connection_and_several_accounts_on_one(alice_key, bob_key):
    communicator = await connect()
    assert await subscribe(communicator, alice_key) == 0
    answer = await call(communicator, "userDataStream.subscribe.signature", signed(alice_key.api_key, alice_key.secret))
    assert (answer["status"], answer["error"]["code"]) == (400, -2035)
    assert await subscribe(communicator, bob_key) == 1
    assert (await call(communicator, "session.subscriptions"))["result"] == [
        {"subscriptionId": 0},
        {"subscriptionId": 1},
    ]
    await communicator.disconnect()


async def test_a_market_order_sends_new_trade_and_the_account_position(alice_key):
    communicator = await connect()
    await subscribe(communicator, alice_key)
    order = await database_sync_to_async(place)(alice_key.account, "uds-market-1")

    subscription, new = await next_event(communicator)
    assert subscription == 0
    assert set(new) == EXECUTION_REPORT_KEYS
    assert {key: new[key] for key in "esScoqxXiltrCgVfp"} == {
        "e": "executionReport",
        "s": "BTCUSDT",
        "S": "BUY",
        "c": "uds-market-1",
        "o": "MARKET",
        "q": "0.10000000",
        "x": "NEW",
        "X": "NEW",
        "i": order.pk,
        "l": "0.00000000",
        "t": -1,
        "r": "NONE",
        "C": "",
        "g": -1,
        "V": "NONE",
        "f": "GTC",
        "p": "0.00000000",
    }
    assert (new["n"], new["N"], new["w"]) == ("0", None, False)

    _, trade_event = await next_event(communicator)
    trade = await database_sync_to_async(lambda: order.trades.get())()
    assert {key: trade_event[key] for key in "xXiltLzZYnNmt"} == {
        "x": "TRADE",
        "X": "FILLED",
        "i": order.pk,
        "l": "0.10000000",
        "t": trade.pk,
        "L": "65000.00000000",
        "z": "0.10000000",
        "Z": "6500.00000000",
        "Y": "6500.00000000",
        "n": "0.00000000",
        "N": "USDT",
        "m": False,
    }
    assert trade_event["T"] == int(trade.created_at.timestamp() * 1000)

    _, position = await next_event(communicator)
    assert position["e"] == "outboundAccountPosition" and {"E", "u"} <= set(position)
    assert position["B"] == [
        {"a": "BTC", "f": "1.10000000", "l": "0.00000000"},
        {"a": "USDT", "f": "93500.00000000", "l": "0.00000000"},
    ]
    assert await communicator.receive_nothing(timeout=0.1)
    await communicator.disconnect()


async def test_a_resting_limit_order_then_its_cancel(alice_key):
    communicator = await connect()
    await subscribe(communicator, alice_key)
    order = await database_sync_to_async(place)(
        alice_key.account, "uds-limit-1", order_type="LIMIT", price=Decimal("60000"), qty=Decimal("0.2")
    )
    _, new = await next_event(communicator)
    assert (new["x"], new["X"], new["o"], new["p"], new["w"]) == ("NEW", "NEW", "LIMIT", "60000.00000000", True)
    _, locked = await next_event(communicator)
    assert locked["B"] == [{"a": "USDT", "f": "88000.00000000", "l": "12000.00000000"}]

    await database_sync_to_async(services.paper_order_cancel)(account=alice_key.account, order=order)
    _, canceled = await next_event(communicator)
    assert (canceled["x"], canceled["X"], canceled["i"], canceled["C"]) == (
        "CANCELED",
        "CANCELED",
        order.pk,
        "uds-limit-1",
    )
    _, released = await next_event(communicator)
    assert released["B"] == [{"a": "USDT", "f": "100000.00000000", "l": "0.00000000"}]
    await communicator.disconnect()


async def test_a_market_order_beyond_the_liquidity_trades_in_part_then_expires(alice_key):
    await database_sync_to_async(services.paper_liquidity_set)(symbol="BTC-USDT", liquidity=Decimal("0.04"))
    communicator = await connect()
    await subscribe(communicator, alice_key)
    await database_sync_to_async(place)(alice_key.account, "uds-thin-1")
    kinds = []
    for _ in range(4):
        _, event = await next_event(communicator)
        kinds.append((event["e"], event.get("x"), event.get("X"), event.get("l"), event.get("z")))
    assert kinds == [
        ("executionReport", "NEW", "NEW", "0.00000000", "0.00000000"),
        ("executionReport", "TRADE", "PARTIALLY_FILLED", "0.04000000", "0.04000000"),
        ("outboundAccountPosition", None, None, None, None),
        ("executionReport", "EXPIRED", "EXPIRED", "0.00000000", "0.04000000"),
    ]
    await communicator.disconnect()


async def test_another_accounts_orders_are_not_sent(alice_key, bob_key):
    communicator = await connect()
    await subscribe(communicator, alice_key)
    await database_sync_to_async(place)(bob_key.account, "uds-bob-1", qty=Decimal("0.01"))
    await database_sync_to_async(place)(alice_key.account, "uds-alice-1")
    # Events go out in the order they were published: had bob's come, it would come first.
    _, event = await next_event(communicator)
    assert (event["c"], event["x"]) == ("uds-alice-1", "NEW")
    await communicator.disconnect()


async def test_events_follow_the_subscription_of_their_account(alice_key, bob_key):
    communicator = await connect()
    await subscribe(communicator, alice_key)
    await subscribe(communicator, bob_key)
    await database_sync_to_async(place)(bob_key.account, "uds-bob-2", qty=Decimal("0.01"))
    subscription, event = await next_event(communicator)
    assert (subscription, event["c"]) == (1, "uds-bob-2")
    await communicator.disconnect()


async def test_an_order_rolled_back_sends_nothing(alice_key):
    communicator = await connect()
    await subscribe(communicator, alice_key)

    def place_and_roll_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            place(alice_key.account, "uds-rolled-back")
            raise RuntimeError("rolled back")
        place(alice_key.account, "uds-kept")

    await database_sync_to_async(place_and_roll_back)()
    _, event = await next_event(communicator)
    assert event["c"] == "uds-kept"
    await communicator.disconnect()


async def test_orders_from_the_paper_json_api_are_sent_too(alice_key):
    communicator = await connect()
    await subscribe(communicator, alice_key)

    def post() -> int:
        client = Client(HTTP_X_PAPER_KEY=alice_key.trader.api_key)
        return client.post("/paper/api/orders", order_body("uds-api-1"), content_type="application/json").status_code

    assert await database_sync_to_async(post)() == 201
    _, event = await next_event(communicator)
    assert (event["c"], event["x"]) == ("uds-api-1", "NEW")
    await communicator.disconnect()


async def test_after_unsubscribe_no_more_events_come(alice_key):
    first, second = await connect(), await connect()
    await subscribe(first, alice_key)
    await subscribe(second, alice_key)
    assert await call(first, "userDataStream.unsubscribe", {"subscriptionId": 0}) == {
        "id": "r1",
        "status": 200,
        "result": {},
    }
    assert (await call(first, "session.subscriptions"))["result"] == []
    answer = await call(first, "userDataStream.unsubscribe", {"subscriptionId": 0})
    assert (answer["status"], answer["error"]["code"]) == (400, -2036)
    await database_sync_to_async(place)(alice_key.account, "uds-after")
    _, event = await next_event(second)  # the same group_send reached every member
    assert event["c"] == "uds-after"
    assert await first.receive_nothing(timeout=0.1)
    await first.disconnect()
    await second.disconnect()


async def test_unsubscribe_without_an_id_ends_every_subscription_of_the_connection(alice_key, bob_key):
    communicator = await connect()
    await subscribe(communicator, alice_key)
    await subscribe(communicator, bob_key)
    assert (await call(communicator, "v3/userDataStream.unsubscribe"))["result"] == {}
    assert (await call(communicator, "session.subscriptions"))["result"] == []
    assert await subscribe(communicator, alice_key) == 2  # ids are never reused on a connection
    await communicator.disconnect()


@pytest.fixture
async def pro_exchange(asgi_server, alice_key):  # noqa: F811
    base = f"{asgi_server}/paper/binance/api/v3"
    exchange = ccxtpro.binance(
        {
            "apiKey": alice_key.api_key,
            "secret": alice_key.secret,
            "timeout": 10000,
            "options": {"fetchCurrencies": False, "fetchMargins": False, "fetchMarkets": {"types": ["spot"]}},
        }
    )
    urls = copy.deepcopy(exchange.urls["api"])
    urls["ws"]["ws-api"]["spot"] = f"{asgi_server.replace('http://', 'ws://')}/paper/binance/ws-api/v3"
    exchange.urls["api"] = {**urls, "public": base, "private": base}
    try:
        yield exchange
    finally:
        await exchange.close()


async def wait_for(watch, condition, seconds: float = TIMEOUT):
    """Call `watch` again until what it returns satisfies `condition`, within `seconds`."""
    async with asyncio.timeout(seconds):
        while True:
            found = [item for item in await watch() if condition(item)]
            if found:
                return found[0]


async def test_ccxt_pro_watches_my_trades_and_orders_over_the_real_socket(pro_exchange):
    exchange = pro_exchange
    await exchange.load_markets()
    await exchange.authenticate()  # the signed userDataStream.subscribe.signature, answered
    trades = asyncio.create_task(wait_for(exchange.watch_my_trades, lambda trade: True))
    orders = asyncio.create_task(wait_for(exchange.watch_orders, lambda order: order["status"] == "closed"))
    created = await exchange.create_order("BTC/USDT", "market", "buy", 0.1, params={"clientOrderId": "uds-pro-1"})

    trade = await trades
    assert (trade["symbol"], trade["side"], trade["amount"], trade["price"]) == ("BTC/USDT", "buy", 0.1, 65000.0)
    assert trade["order"] == created["id"] and trade["takerOrMaker"] == "taker"
    order = await orders
    assert (order["id"], order["clientOrderId"], order["symbol"], order["side"]) == (
        created["id"],
        "uds-pro-1",
        "BTC/USDT",
        "buy",
    )
    assert (order["type"], order["amount"], order["filled"], order["cost"]) == ("market", 0.1, 0.1, 6500.0)
