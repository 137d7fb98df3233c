"""The trade page: live mark price, the order form, a confirmation dialog, then a notice."""

from decimal import Decimal

import pytest

from executor.paper.models import OrderStatus, PaperOrder

from .conftest import place_on_page

pytestmark = pytest.mark.django_db

SELECTORS = [
    'id="mark-price"',
    'data-price-url="/paper/api/prices/BTC-USDT"',
    'id="order-form"',
    'id="side-buy"',
    'id="side-sell"',
    'id="order-type"',
    'id="order-price"',
    'id="order-qty"',
    'id="client-order-id"',
    'id="place-order"',
    'data-testid="logged-in-as"',
    'src="/paper/assets/paper.js"',
]


def test_the_trade_page_shows_the_mark_price_the_form_and_its_selectors(alice_web, mark):
    page = alice_web.get("/paper/trade/BTC-USDT")
    assert page.status_code == 200
    html = page.content.decode()
    for selector in SELECTORS:
        assert selector in html, selector
    assert 'data-price="65000"' in html
    assert 'name="client_order_id"' in html
    assert 'id="confirm-dialog"' not in html


def test_a_lowercase_or_slashed_symbol_redirects_to_the_canonical_page(alice_web):
    response = alice_web.get("/paper/trade/btc-usdt")
    assert response.status_code == 302 and response["Location"] == "/paper/trade/BTC-USDT"


def test_an_unknown_symbol_has_no_trade_page(alice_web):
    assert alice_web.get("/paper/trade/DOGE-USDT").status_code == 404


def test_submitting_the_form_asks_for_confirmation_and_places_nothing(alice_web, mark):
    form = {"side": "BUY", "order_type": "LIMIT", "price": "64000", "qty": "0.5", "client_order_id": "td-7"}
    page = alice_web.post("/paper/trade/BTC-USDT", form)
    html = page.content.decode()
    assert page.status_code == 200
    assert '<dialog id="confirm-dialog" data-testid="confirm-dialog" open' in html
    assert 'id="confirm-order"' in html
    assert 'name="confirmed" value="1"' in html
    assert 'data-testid="confirm-total">32000 USDT' in html
    assert 'data-testid="confirm-client-order-id" class="mono">td-7<' in html
    assert not PaperOrder.objects.exists()


def test_confirming_places_the_order_and_shows_its_id_in_a_success_notice(alice_web, mark):
    response = place_on_page(alice_web, client_order_id="td-9")
    order = PaperOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/paper/trade/BTC-USDT?order={order.order_id}"

    html = alice_web.get(response["Location"]).content.decode()
    assert order.status == OrderStatus.FILLED and order.client_order_id == "td-9"
    assert 'data-testid="order-success"' in html
    assert f'data-order-id="{order.order_id}"' in html and 'data-client-order-id="td-9"' in html
    assert f'data-testid="notice-order-id">{order.order_id}<' in html
    assert "Filled: BUY 0.1 BTC-USDT at 65000." in html


def test_an_order_without_a_client_order_id_gets_one_from_the_exchange(alice_web, mark):
    place_on_page(alice_web)
    assert PaperOrder.objects.get().client_order_id.startswith("web-")


def test_a_rejected_order_shows_an_error_notice_with_the_code_and_reason(alice_web, mark):
    response = place_on_page(alice_web, qty="2", client_order_id="td-big")
    order = PaperOrder.objects.get()
    html = alice_web.get(response["Location"]).content.decode()
    assert order.status == OrderStatus.REJECTED
    assert 'data-testid="order-error"' in html and 'data-code="INSUFFICIENT_BALANCE"' in html
    assert 'data-testid="error-code">INSUFFICIENT_BALANCE<' in html
    assert "Insufficient USDT balance: the order needs 130000 USDT, 100000 is available." in html
    assert f'data-testid="notice-order-id">{order.order_id}<' in html


def test_a_reused_client_order_id_on_the_page_is_refused_and_names_the_existing_order(alice_web, mark):
    place_on_page(alice_web, client_order_id="td-same")
    response = place_on_page(alice_web, client_order_id="td-same")
    existing = PaperOrder.objects.get()
    html = alice_web.get(response["Location"]).content.decode()
    assert 'data-code="DUPLICATE_CLIENT_ORDER_ID"' in html
    assert f'data-testid="notice-order-id">{existing.order_id}<' in html
    assert PaperOrder.objects.count() == 1


def test_malformed_input_shows_field_errors_and_places_nothing(alice_web, mark):
    page = alice_web.post(
        "/paper/trade/BTC-USDT",
        {
            "side": "BUY",
            "order_type": "LIMIT",
            "price": "",
            "qty": "lots",
            "client_order_id": "has spaces",
            "confirmed": "1",
        },
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-code="INVALID"' in html
    for marker in ('data-testid="price-error"', 'data-testid="qty-error"', 'data-testid="client-order-id-error"'):
        assert marker in html
    assert not PaperOrder.objects.exists()


def test_the_notice_only_shows_the_accounts_own_orders(alice_web, bob, mark):
    from executor.paper import services

    other = services.paper_order_place(
        account=bob.account,
        client_order_id="bob-1",
        symbol="BTC-USDT",
        side="BUY",
        order_type="MARKET",
        qty=Decimal("0.001"),
    )
    html = alice_web.get(f"/paper/trade/BTC-USDT?order={other.order_id}").content.decode()
    assert "bob-1" not in html and 'data-testid="order-success"' not in html


def test_the_assets_are_served_by_the_exchange_itself(client):
    script = client.get("/paper/assets/paper.js")
    style = client.get("/paper/assets/paper.css")
    assert script.status_code == 200 and b"fetch(" in b"".join(script.streaming_content)
    assert style.status_code == 200
    assert client.get("/paper/assets/../../manage.py").status_code == 404


def test_an_extreme_quantity_gets_a_confirmation_and_then_a_clear_refusal(alice_web, mark):
    form = {"side": "BUY", "order_type": "LIMIT", "price": "99999999999999999", "qty": "99999999999999999"}
    assert alice_web.post("/paper/trade/BTC-USDT", form).status_code == 200
    response = alice_web.post("/paper/trade/BTC-USDT", {**form, "confirmed": "1"})
    assert 'data-code="INSUFFICIENT_BALANCE"' in alice_web.get(response["Location"]).content.decode()
