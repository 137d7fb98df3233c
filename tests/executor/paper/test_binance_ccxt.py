"""Smoke test: ccxt's own, unmodified `binance` class works against the paper exchange's Binance API
(live test server, real HTTP, real signatures). The wire format itself is tested in test_binance_api."""

from decimal import Decimal

import ccxt
import pytest

from executor.paper import services
from executor.paper.models import PaperOrder
from tests.executor.paper.conftest import make_trader

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def exchange(live_server, paper_instruments):
    services.paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    services.paper_price_set(symbol="ETH-USDT", price=Decimal("3000"))
    alice = make_trader("alice", USDT="100000", BTC="1")
    _, api_key, secret = services.paper_binance_key_create(account=alice.account)
    base = f"{live_server.url}/paper/binance/api/v3"
    binance = ccxt.binance(
        {
            "apiKey": api_key,
            "secret": secret,
            "timeout": 10000,
            "options": {"fetchCurrencies": False, "fetchMargins": False, "fetchMarkets": {"types": ["spot"]}},
        }
    )
    binance.urls["api"] = {**binance.urls["api"], "public": base, "private": base}
    return alice, binance


def test_ccxt_binance_loads_markets_trades_looks_up_lists_and_cancels(exchange):
    alice, binance = exchange
    markets = binance.load_markets()
    btc = markets["BTC/USDT"]
    assert (btc["id"], btc["spot"], btc["active"]) == ("BTCUSDT", True, True)
    assert btc["precision"]["amount"] == 0.0001 and btc["precision"]["price"] == 0.01
    assert btc["limits"]["amount"]["min"] == 0.0001 and btc["limits"]["cost"]["min"] == 5.0
    assert binance.fetch_ticker("BTC/USDT")["last"] == 65000.0

    market = binance.create_order("BTC/USDT", "market", "buy", 0.1, params={"clientOrderId": "td-ccxt-1"})
    assert (market["status"], market["filled"], market["average"]) == ("closed", 0.1, 65000.0)
    assert market["fee"]["currency"] == "USDT"
    limit = binance.create_order("BTC/USDT", "limit", "buy", 0.2, 60000, params={"clientOrderId": "td-ccxt-2"})
    assert limit["status"] == "open"
    found = binance.fetch_order(None, "BTC/USDT", params={"origClientOrderId": "td-ccxt-2"})
    assert (found["id"], found["clientOrderId"]) == (limit["id"], "td-ccxt-2")
    assert [o["id"] for o in binance.fetch_open_orders("BTC/USDT")] == [limit["id"]]
    canceled = binance.cancel_order(limit["id"], "BTC/USDT")
    assert canceled["status"] == "canceled"

    balance = binance.fetch_balance()
    assert balance["BTC"]["free"] == 1.1
    trades = binance.fetch_my_trades("BTC/USDT")
    assert [(t["order"], t["amount"], t["price"]) for t in trades] == [(market["id"], 0.1, 65000.0)]
    assert PaperOrder.objects.filter(account=alice.account).count() == 2


def test_ccxt_raises_its_typed_errors(exchange):
    alice, binance = exchange
    binance.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        binance.create_order("BTC/USDT", "market", "buy", 5, params={"clientOrderId": "td-ccxt-big"})
    with pytest.raises(ccxt.InvalidOrder):
        binance.create_order("BTC/USDT", "market", "buy", 0.1, params={"clientOrderId": "td-ccxt-big"})
    with pytest.raises(ccxt.OrderNotFound):
        binance.fetch_order(None, "BTC/USDT", params={"origClientOrderId": "never-sent"})
    binance.secret = "wrong" * 10
    with pytest.raises(ccxt.AuthenticationError):
        binance.fetch_balance()


def test_ccxt_sees_a_lost_reply_as_a_request_timeout_and_then_finds_the_order(exchange):
    alice, binance = exchange
    binance.load_markets()
    services.paper_fault_set(account=alice.account, kind="lost_reply", value="1", once=True)
    with pytest.raises(ccxt.RequestTimeout):
        binance.create_order("BTC/USDT", "market", "buy", 0.01, params={"clientOrderId": "td-ccxt-lost"})
    found = binance.fetch_order(None, "BTC/USDT", params={"origClientOrderId": "td-ccxt-lost"})
    assert (found["status"], found["filled"]) == ("closed", 0.01)
    assert PaperOrder.objects.filter(client_order_id="td-ccxt-lost").count() == 1
