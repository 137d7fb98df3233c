"""Paper Pro's order ticket endpoint, cancel, and the open orders / order history / trade history
tables: the paper exchange's matching behind a real-looking site's JSON and formatting."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from executor.paper import services
from executor.paper.models import PaperInstrument, PaperOrder, PaperTrade
from executor.paper.pro import display

from .conftest import make_trader

PRO = "/paper/pro"


@pytest.fixture
def pro(alice, mark) -> Client:
    client = Client()
    response = client.post(f"{PRO}/login", {"username": alice.username, "password": alice.password})
    assert response.status_code == 302
    return client


def place(client: Client, **fields):
    body = {"symbol": "BTC_USDT", "side": "BUY", "type": "LIMIT", "price": "60000", "quantity": "0.01", **fields}
    return client.post(f"{PRO}/api/order/place", body, content_type="application/json")


def test_a_limit_order_from_the_ticket_rests_and_its_toast_names_the_venue_order(pro, alice):
    response = place(pro, price="60,000.5", quantity="0.0150")
    assert response.status_code == 200
    body = response.json()
    order = PaperOrder.objects.get(account=alice.account)
    assert body["success"] is True
    assert body["toast"] == f"Order placed · #{order.pk}"
    assert body["data"] == {"orderId": order.pk, "status": "NEW"}
    assert (order.side, order.order_type, order.price, order.qty) == (
        "BUY",
        "LIMIT",
        Decimal("60000.5"),
        Decimal("0.015"),
    )
    # The exchange's client order id stays inside: never shown, never sent back.
    assert order.client_order_id not in response.content.decode()


def test_a_market_sell_fills_at_the_mark(pro, alice):
    response = place(pro, side="SELL", type="MARKET", price="", quantity="0.5")
    assert response.json()["success"] is True
    order = PaperOrder.objects.get(account=alice.account)
    assert (order.status, order.price, order.avg_price) == ("FILLED", None, Decimal("65000"))


def test_a_balance_refusal_is_an_inline_error_in_a_200_answer(pro, alice):
    response = place(pro, price="60000", quantity="5")
    assert response.status_code == 200
    assert response.json() == {"success": False, "code": "INSUFFICIENT_BALANCE", "message": "Insufficient balance"}
    assert PaperOrder.objects.get(account=alice.account).status == "REJECTED"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"quantity": "0.00015"}, "INVALID_QTY_STEP", "quantity"),
        ({"quantity": "0.00001"}, "BELOW_MIN_QTY", "quantity"),
        ({"price": "60000.005"}, "INVALID_TICK", "price"),
    ],
)
def test_a_filter_failure_is_a_400_naming_the_field(pro, fields, code, field):
    response = place(pro, **fields)
    assert response.status_code == 400
    body = response.json()
    assert (body["success"], body["code"], body["field"]) == (False, code, field)
    assert body["message"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"price": ""}, "price"),
        ({"quantity": "abc"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "1e400"}, "quantity"),
        ({"side": "HOLD"}, "side"),
        ({"type": "STOP"}, "type"),
        ({"quantity": ["1"]}, "quantity"),
    ],
)
def test_a_malformed_ticket_is_a_400_naming_the_field_and_places_nothing(pro, alice, fields, field):
    response = place(pro, **fields)
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("INVALID_PARAMETER", field)
    assert not PaperOrder.objects.filter(account=alice.account).exists()


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"", "ü".encode("latin-1")])
def test_a_body_that_is_not_a_json_object_is_a_400(pro, raw):
    response = pro.post(f"{PRO}/api/order/place", raw, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "INVALID_REQUEST"


def test_an_unknown_pair_is_refused_at_once(pro, alice):
    response = place(pro, symbol="DOGE_USDT")
    assert response.status_code == 404 and response.json()["code"] == "SYMBOL_NOT_FOUND"
    assert not PaperOrder.objects.exists()
    page = pro.get(f"{PRO}/trade/DOGE_USDT")
    assert page.status_code == 404 and b"Trading pair not found" in page.content


def test_the_trade_page_has_no_test_hooks_and_a_real_sites_ticket(pro):
    page = pro.get(f"{PRO}/trade/BTC_USDT").content.decode()
    assert not re.search(r"\sdata-[a-z-]+=", page)
    assert "client" not in page.lower()
    assert re.search(r'<label for="[^"]+">Price</label>', page)
    assert re.search(r'<label for="[^"]+">Amount</label>', page)
    assert 'role="listbox"' in page and page.count('role="option"') == 2
    assert "<select" not in page
    assert ">Buy BTC</button>" in page and 'role="tab"' in page
    assert 'role="dialog"' in page and ">Confirm</button>" in page
    assert "65,000.00" in page  # the mark, grouped


def test_other_spellings_of_a_pair_lead_to_its_page(pro):
    response = pro.get(f"{PRO}/trade/btc-usdt")
    assert response.status_code == 302 and response["Location"] == f"{PRO}/trade/BTC_USDT"


def test_cancel_frees_an_open_order_once_and_only_for_its_account(pro, alice, bob):
    place(pro)
    order = PaperOrder.objects.get(account=alice.account)
    response = pro.post(f"{PRO}/api/order/{order.pk}/cancel", content_type="application/json")
    assert response.json() == {
        "success": True,
        "code": "OK",
        "message": "Order canceled",
        "toast": f"Order canceled · #{order.pk}",
    }
    order.refresh_from_db()
    assert order.status == "CANCELED"
    again = pro.post(f"{PRO}/api/order/{order.pk}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "ORDER_NOT_OPEN"
    other = services.paper_order_place(
        account=bob.account,
        client_order_id="b1",
        symbol="BTC-USDT",
        side="BUY",
        order_type="LIMIT",
        qty=Decimal("0.001"),
        price=Decimal("60000"),
    )
    assert pro.post(f"{PRO}/api/order/{other.pk}/cancel").status_code == 404
    assert pro.post(f"{PRO}/api/order/99999999999999999999/cancel").status_code == 404
    other.refresh_from_db()
    assert other.status == "NEW"


def rows(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr.*?</tr>", body, re.S)]


def test_order_history_is_newest_first_ten_to_a_page(pro, alice):
    for index in range(12):
        place(pro, price=str(60000 + index))
    place(pro, quantity="5")  # refused: not listed
    first = pro.get(f"{PRO}/panel/history?page=1").content.decode()
    listed = rows(first)
    assert len(listed) == 10
    assert [row[5] for row in listed[:2]] == ["60,011.00", "60,010.00"]
    assert 'aria-label="Next page"' in first and 'aria-current="page"' in first
    second = rows(pro.get(f"{PRO}/orders?tab=history&page=2").content.decode())
    assert [row[5] for row in second] == ["60,001.00", "60,000.00"]
    assert pro.get(f"{PRO}/orders?tab=history&page=x").status_code == 400
    assert pro.get(f"{PRO}/panel/history?page=-1").status_code == 400
    assert pro.get(f"{PRO}/panel/nope").status_code == 400


def test_the_tables_format_numbers_and_times_as_the_site_states(pro, alice):
    place(pro, price="60000", quantity="0.01")
    place(pro, side="SELL", type="MARKET", price="", quantity="0.25")
    limit, market = PaperOrder.objects.order_by("pk")
    history = rows(pro.get(f"{PRO}/panel/history").content.decode())
    assert history[0] == [
        str(market.pk),
        display.local_time(market.created_at),
        "BTC/USDT",
        "Market",
        "Sell",
        "—",
        "65,000.00",
        "0.2500",
        "0.2500",
        "Filled",
    ]
    assert history[1][2:] == ["BTC/USDT", "Limit", "Buy", "60,000.00", "—", "0.0100", "0.0000", "Open"]
    assert "Time (UTC+8)" in pro.get(f"{PRO}/panel/history").content.decode()
    open_rows = rows(pro.get(f"{PRO}/panel/open").content.decode())
    assert len(open_rows) == 1 and open_rows[0][-1].startswith('<button type="button"')
    assert f'value="{limit.pk}">Cancel</button>' in open_rows[0][-1]


def test_trade_history_lists_each_fill(pro, alice):
    place(pro, side="SELL", type="MARKET", price="", quantity="0.25")
    trade = PaperTrade.objects.get(account=alice.account)
    listed = rows(pro.get(f"{PRO}/panel/trades").content.decode())
    assert len(listed) == 1
    time, pair, side, kind, price, amount, fee, total, role, number = listed[0]
    assert (time, pair, side, kind, price, amount) == (
        display.local_time(trade.created_at),
        "BTC/USDT",
        "Sell",
        "Market",
        "65,000.00",
        "0.2500",
    )
    assert total == "16,250.00" and role == "Taker" and number == str(trade.order_id)
    assert fee.endswith(trade.fee_asset)


def test_the_account_page_shows_balances_and_positions(pro, alice):
    page = pro.get(f"{PRO}/account").content.decode()
    assert "<td>USDT</td><td>100,000.00</td><td>100,000.00</td><td>0.00</td>" in page
    assert "<td>BTC/USDT</td><td>1.0000</td>" in page


def test_balances_follow_a_resting_order(pro):
    place(pro, price="60000", quantity="0.5")
    data = pro.get(f"{PRO}/api/balances/BTC_USDT").json()["data"]
    assert data == {"base": "1.0000", "quote": "70,000.00"}


def test_the_price_ticker_is_public(db, mark):
    response = Client().get(f"{PRO}/api/ticker/BTC_USDT")
    assert response.json() == {"symbol": "BTC_USDT", "price": "65000", "display": "65,000.00"}
    assert Client().get(f"{PRO}/api/ticker/NOPE").status_code == 404


def test_a_second_account_sees_only_its_own_orders(pro, alice):
    place(pro)
    carol = make_trader("carol", USDT="1000")
    other = Client()
    other.post(f"{PRO}/login", {"username": carol.username, "password": carol.password})
    assert "You have no open orders." in other.get(f"{PRO}/panel/open").content.decode()
    assert "No orders yet." in other.get(f"{PRO}/panel/history").content.decode()


def test_a_partly_filled_order_shows_its_fill_and_stays_cancelable(pro, alice):
    PaperInstrument.objects.filter(symbol="BTC-USDT").update(liquidity=Decimal("0.004"))
    place(pro, price="66000", quantity="0.01")  # marketable: takes what this mark offers
    order = PaperOrder.objects.get(account=alice.account)
    assert (order.status, order.filled_qty) == ("PARTIALLY_FILLED", Decimal("0.004"))
    (row,) = rows(pro.get(f"{PRO}/panel/open").content.decode())
    assert row[5:8] == ["0.0100", "0.0040", "Partially filled"]
    assert ">Cancel</button>" in row[8]
    assert len(rows(pro.get(f"{PRO}/panel/trades").content.decode())) == 1
    assert pro.post(f"{PRO}/api/order/{order.pk}/cancel").json()["success"] is True
    order.refresh_from_db()
    assert (order.status, order.filled_qty) == ("CANCELED", Decimal("0.004"))


def test_the_trading_rules_page_is_public_and_lists_each_pairs_rules(db):
    page = Client().get(f"{PRO}/rules").content.decode()
    assert "<td>BTC/USDT</td><td>BTC</td><td>USDT</td><td>0.01</td><td>0.0001</td><td>0.0001</td>" in page
