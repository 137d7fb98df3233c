"""The JSON API: one key per account in X-PAPER-KEY; the contract the desk's connector relies on."""

from decimal import Decimal

import pytest

from executor.paper import services
from executor.paper.models import PaperApiKey, PaperOrder

from .conftest import api_client, order_body

pytestmark = pytest.mark.django_db

ORDER_KEYS = {
    "order_id",
    "client_order_id",
    "symbol",
    "side",
    "type",
    "qty",
    "price",
    "time_in_force",
    "status",
    "filled_qty",
    "filled_quote",
    "avg_price",
    "fee",
    "fee_asset",
    "fills",
    "reject_code",
    "reject_reason",
    "created_at",
    "updated_at",
}
PRIVATE = [
    ("get", "/paper/api/orders"),
    ("post", "/paper/api/orders"),
    ("get", "/paper/api/orders/by-client-id/td-1"),
    ("post", "/paper/api/orders/by-client-id/td-1/cancel"),
    ("get", "/paper/api/orders/open"),
    ("get", "/paper/api/orders/P-000001"),
    ("post", "/paper/api/orders/P-000001/cancel"),
    ("get", "/paper/api/trades"),
    ("get", "/paper/api/positions"),
    ("get", "/paper/api/balances"),
]


@pytest.mark.parametrize(("method", "path"), PRIVATE)
def test_every_account_endpoint_needs_a_valid_key(alice, method, path):
    PaperApiKey.objects.create_key(account=alice.account, name="old", revoked=True)
    # The last character changed to one it is not (a fixed "x" would be the real key 1 time in 62).
    wrong = alice.api_key[:-1] + ("y" if alice.api_key.endswith("x") else "x")
    for key in (None, "", "nope", wrong, "x" * 5000):
        response = getattr(api_client(key), method)(path, {}, format="json")
        assert response.status_code == 401, (key, response.content)
        assert response.json()["error"]["code"] == "UNAUTHORIZED"
        assert response["WWW-Authenticate"] == "X-PAPER-KEY"


def test_a_revoked_key_is_refused(alice):
    _, key = PaperApiKey.objects.create_key(account=alice.account, name="old")
    PaperApiKey.objects.filter(prefix=key.partition(".")[0]).update(revoked=True)
    assert api_client(key).get("/paper/api/balances").status_code == 401


def test_keys_are_stored_hashed(alice):
    row = PaperApiKey.objects.get(account=alice.account)
    assert alice.api_key.startswith(row.prefix + ".")
    assert alice.api_key not in row.hashed_key and alice.api_key.partition(".")[2] not in row.hashed_key


def test_placing_a_market_order_answers_201_with_the_filled_order_its_fee_and_fill(mark, alice_api, fees):
    response = alice_api.post("/paper/api/orders", order_body(), format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == ORDER_KEYS
    order = PaperOrder.objects.get()
    trade = order.trades.get()
    assert body["order_id"] == order.order_id and body["order_id"].startswith("P-")
    assert body["fills"] == [
        {
            "trade_id": trade.trade_id,
            "qty": "0.1",
            "price": "65000",
            "quote_qty": "6500",
            "fee": "13",
            "fee_asset": "USDT",
            "liquidity": "TAKER",
            "time": body["fills"][0]["time"],
        }
    ]
    assert body | {"created_at": None, "updated_at": None, "fills": None} == {
        "order_id": order.order_id,
        "client_order_id": "td-1",
        "symbol": "BTC-USDT",
        "side": "BUY",
        "type": "MARKET",
        "qty": "0.1",
        "price": None,
        "time_in_force": None,
        "status": "FILLED",
        "filled_qty": "0.1",
        "filled_quote": "6500",
        "avg_price": "65000",
        "fee": "13",
        "fee_asset": "USDT",
        "fills": None,
        "reject_code": None,
        "reject_reason": None,
        "created_at": None,
        "updated_at": None,
    }


def test_a_limit_order_rests_and_says_so(mark, alice_api):
    response = alice_api.post("/paper/api/orders", order_body(type="LIMIT", price="60000.5"), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "NEW" and response.json()["price"] == "60000.5"


def test_a_desk_style_symbol_is_understood(mark, alice_api):
    response = alice_api.post("/paper/api/orders", order_body(symbol="BTC/USDT"), format="json")
    assert response.status_code == 201 and response.json()["symbol"] == "BTC-USDT"


def test_a_rejection_answers_422_with_the_code_and_the_rejected_order(mark, alice_api):
    response = alice_api.post("/paper/api/orders", order_body(qty="0.00015"), format="json")
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "INVALID_QTY_STEP"
    assert "lot size 0.0001" in body["error"]["message"]
    assert body["order"]["status"] == "REJECTED" and body["order"]["reject_code"] == "INVALID_QTY_STEP"
    assert PaperOrder.objects.get().status == "REJECTED"


def test_a_reused_client_order_id_answers_409_with_the_existing_order_and_places_nothing(mark, alice_api):
    first = alice_api.post("/paper/api/orders", order_body("td-1"), format="json")
    again = alice_api.post("/paper/api/orders", order_body("td-1", side="SELL", qty="0.2"), format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "DUPLICATE_CLIENT_ORDER_ID"
    assert again.json()["order"] == first.json()
    assert PaperOrder.objects.count() == 1


def test_the_same_client_order_id_is_free_for_another_account(mark, alice_api, bob):
    alice_api.post("/paper/api/orders", order_body("td-1"), format="json")
    response = api_client(bob.api_key).post("/paper/api/orders", order_body("td-1", qty="0.001"), format="json")
    assert response.status_code == 201
    assert PaperOrder.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (order_body(client_order_id=""), "client_order_id"),
        (order_body(client_order_id="x" * 65), "client_order_id"),
        (order_body(client_order_id="with space"), "client_order_id"),
        (order_body(side="HOLD"), "side"),
        (order_body(type="STOP"), "type"),
        (order_body(qty="0"), "qty"),
        (order_body(qty="NaN"), "qty"),
        (order_body(qty="1e-20"), "qty"),
        (order_body(qty="9" * 30), "qty"),
        (order_body(type="LIMIT"), "price"),
        (order_body(type="LIMIT", price="-1"), "price"),
        (order_body(symbol="B" * 50), "symbol"),
        ({"symbol": "BTC-USDT"}, "client_order_id"),
    ],
)
def test_malformed_orders_answer_400_naming_the_field(alice_api, body, field):
    response = alice_api.post("/paper/api/orders", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID" and field in error["fields"]
    assert not PaperOrder.objects.exists()


def test_a_body_that_is_not_a_json_object_answers_400(alice_api):
    assert alice_api.post("/paper/api/orders", "[1, 2]", content_type="application/json").status_code == 400
    assert alice_api.post("/paper/api/orders", "{nope", content_type="application/json").status_code == 400


def test_an_order_is_found_by_its_client_order_id(mark, alice_api):
    placed = alice_api.post("/paper/api/orders", order_body("td-find"), format="json").json()
    response = alice_api.get("/paper/api/orders/by-client-id/td-find")
    assert response.status_code == 200 and response.json() == placed


def test_an_unknown_client_order_id_answers_404(alice_api):
    response = alice_api.get("/paper/api/orders/by-client-id/td-missing")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"


def test_another_accounts_order_is_not_found(mark, alice_api, bob):
    api_client(bob.api_key).post("/paper/api/orders", order_body("bob-1", qty="0.001"), format="json")
    assert alice_api.get("/paper/api/orders/by-client-id/bob-1").status_code == 404
    assert alice_api.get("/paper/api/orders").json() == {"orders": []}


def test_orders_are_listed_newest_first_and_filtered_by_status(mark, alice_api):
    alice_api.post("/paper/api/orders", order_body("td-1"), format="json")
    alice_api.post("/paper/api/orders", order_body("td-2", type="LIMIT", price="60000"), format="json")
    alice_api.post("/paper/api/orders", order_body("td-3", qty="5"), format="json")
    listed = alice_api.get("/paper/api/orders").json()["orders"]
    assert [order["client_order_id"] for order in listed] == ["td-3", "td-2", "td-1"]
    resting = alice_api.get("/paper/api/orders?status=NEW").json()["orders"]
    assert [order["client_order_id"] for order in resting] == ["td-2"]
    assert alice_api.get("/paper/api/orders?status=BOGUS").status_code == 400


def test_a_resting_order_can_be_canceled_by_client_order_id(mark, alice_api):
    alice_api.post("/paper/api/orders", order_body(type="LIMIT", price="60000"), format="json")
    response = alice_api.post("/paper/api/orders/by-client-id/td-1/cancel")
    assert response.status_code == 200 and response.json()["status"] == "CANCELED"
    again = alice_api.post("/paper/api/orders/by-client-id/td-1/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "ORDER_NOT_OPEN"


def test_positions_list_non_zero_holdings_with_their_average_price(mark, alice, alice_api):
    services.paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    alice_api.post("/paper/api/orders", order_body(side="SELL", qty="1"), format="json")
    assert alice_api.get("/paper/api/positions").json() == {"positions": []}
    alice_api.post("/paper/api/orders", order_body("td-2", qty="0.1"), format="json")
    alice_api.post("/paper/api/orders", order_body("td-3", symbol="ETH-USDT", qty="2"), format="json")
    assert alice_api.get("/paper/api/positions").json() == {
        "positions": [
            {"symbol": "BTC-USDT", "qty": "0.1", "avg_price": "65000"},
            {"symbol": "ETH-USDT", "qty": "2", "avg_price": "3000"},
        ]
    }


def test_balances_show_free_and_locked_amounts(mark, alice_api):
    alice_api.post("/paper/api/orders", order_body(type="LIMIT", price="60000", qty="0.5"), format="json")
    assert alice_api.get("/paper/api/balances").json() == {
        "balances": [
            {"asset": "BTC", "free": "1", "locked": "0"},
            {"asset": "ETH", "free": "0", "locked": "0"},
            {"asset": "USDT", "free": "70000", "locked": "30000"},
        ]
    }


def test_prices_and_instruments_are_public(mark, client):
    price = client.get("/paper/api/prices/BTC-USDT")
    assert price.status_code == 200
    assert price.json()["symbol"] == "BTC-USDT" and price.json()["price"] == "65000"
    assert price.json()["time"].endswith("+00:00")
    assert client.get("/paper/api/prices/DOGE-USDT").status_code == 404
    instruments = client.get("/paper/api/instruments").json()["instruments"]
    assert instruments[0] == {
        "symbol": "BTC-USDT",
        "base_asset": "BTC",
        "quote_asset": "USDT",
        "tick_size": "0.01",
        "lot_size": "0.0001",
        "min_qty": "0.0001",
        "min_notional": "5",
    }
    assert instruments[1]["lot_size"] == "0.001" and instruments[1]["min_qty"] == "0.001"


@pytest.mark.parametrize(
    "fields",
    [
        {"qty": "99999999999999999"},
        {"type": "LIMIT", "qty": "99999999999999999", "price": "99999999999999999"},
        {"side": "SELL", "type": "LIMIT", "qty": "0.0000000001", "price": "0.0000000001"},
        {"symbol": "ETH-USDT", "qty": "0.0000000001"},
    ],
)
def test_extreme_amounts_are_refused_for_what_they_are_never_a_500(mark, alice_api, fields):
    response = alice_api.post("/paper/api/orders", order_body(**fields), format="json")
    assert response.status_code == 422, response.content[:300]
    assert response.json()["order"]["status"] == "REJECTED"
