"""The orders page (open and history) and the account page (balances and positions)."""

from decimal import Decimal

import pytest

from executor.paper.models import OrderStatus, PaperOrder

from .conftest import place_on_page

pytestmark = pytest.mark.django_db


def test_the_orders_page_lists_open_orders_and_history_with_data_attributes(alice_web, mark):
    place_on_page(alice_web, client_order_id="td-fill")
    place_on_page(alice_web, client_order_id="td-rest", order_type="LIMIT", price="60000")
    place_on_page(alice_web, client_order_id="td-tick", order_type="LIMIT", price="60000.001")
    html = alice_web.get("/paper/orders").content.decode()

    resting = PaperOrder.objects.get(client_order_id="td-rest")
    assert 'id="open-orders"' in html and 'id="order-history"' in html
    assert (
        f'data-testid="order-row" data-order-id="{resting.order_id}" data-client-order-id="td-rest" data-status="NEW"'
        in html
    )
    assert 'data-client-order-id="td-fill" data-status="FILLED"' in html
    assert 'data-client-order-id="td-tick" data-status="REJECTED"' in html
    assert "INVALID_TICK" in html
    assert html.count('data-testid="order-row"') == 3


def test_the_orders_page_finds_an_order_by_its_client_order_id(alice_web, mark):
    place_on_page(alice_web, client_order_id="td-a")
    place_on_page(alice_web, client_order_id="td-b")
    html = alice_web.get("/paper/orders?client_order_id=td-b").content.decode()
    assert 'data-client-order-id="td-b"' in html and 'data-client-order-id="td-a"' not in html


def test_a_resting_order_can_be_canceled_from_the_orders_page(alice_web, mark):
    place_on_page(alice_web, client_order_id="td-rest", order_type="LIMIT", price="60000")
    order = PaperOrder.objects.get()
    response = alice_web.post(f"/paper/orders/{order.order_id}/cancel")
    order.refresh_from_db()
    assert response.status_code == 302
    assert order.status == OrderStatus.CANCELED
    assert 'data-code="CANCELED"' in alice_web.get(response["Location"]).content.decode()
    again = alice_web.get(alice_web.post(f"/paper/orders/{order.order_id}/cancel")["Location"])
    assert 'data-testid="order-error"' in again.content.decode()


def test_the_account_page_shows_balances_and_positions(mark, alice_web):
    place_on_page(alice_web, qty="0.5")
    html = alice_web.get("/paper/account").content.decode()
    assert 'data-testid="balance-row" data-asset="USDT" data-free="67500" data-locked="0"' in html
    assert 'data-testid="balance-row" data-asset="BTC" data-free="1.5" data-locked="0"' in html
    assert 'data-testid="position-row" data-symbol="BTC-USDT" data-qty="1.5" data-avg-price="65000"' in html


def test_the_orders_page_shows_no_other_accounts_orders(alice_web, bob, mark):
    from executor.paper import services

    services.paper_order_place(
        account=bob.account,
        client_order_id="bob-1",
        symbol="BTC-USDT",
        side="BUY",
        order_type="MARKET",
        qty=Decimal("0.001"),
    )
    assert "bob-1" not in alice_web.get("/paper/orders").content.decode()
