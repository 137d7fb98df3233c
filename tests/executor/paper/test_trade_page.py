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


# The page's script: the confirmation is drawn in the browser, the confirm is one fetch POST.
def confirm_by_script(client, symbol: str = "BTC-USDT", **fields):
    """The confirm as paper.js sends it: the dialog's fields, with X-Requested-With: fetch."""
    data = {"side": "BUY", "order_type": "MARKET", "qty": "0.1", "client_order_id": "", **fields, "confirmed": "1"}
    return client.post(f"/paper/trade/{symbol}", data, headers={"X-Requested-With": "fetch"})


def test_the_trade_page_carries_the_confirmation_its_script_draws_without_a_dialog_open(alice_web, mark):
    html = alice_web.get("/paper/trade/BTC-USDT").content.decode()
    assert '<template id="confirm-template">' in html and 'data-ref="confirm-order"' in html
    assert 'name="confirmed" value="1"' in html.split('<template id="confirm-template">')[1]
    assert '<div id="notice-area"' in html and '<div id="open-orders-area">' in html


def test_the_scripts_confirm_places_the_order_and_answers_with_the_notice_without_a_redirect(alice_web, mark):
    response = confirm_by_script(alice_web, client_order_id="td-js-1")
    order = PaperOrder.objects.get()
    html = response.content.decode()
    assert response.status_code == 200 and response["X-Paper-Fragment"] == "trade-update"
    assert order.status == OrderStatus.FILLED and order.client_order_id == "td-js-1"
    assert 'data-part="notice-area"' in html and 'data-testid="order-success"' in html
    assert f'data-order-id="{order.order_id}"' in html and 'data-client-order-id="td-js-1"' in html
    assert 'data-part="available-quote">93500<' in html and 'data-part="available-base">1.1<' in html
    assert "<html" not in html  # only the parts that changed


def test_the_scripts_confirm_of_a_resting_order_lists_it_in_the_open_orders_part(alice_web, mark):
    response = confirm_by_script(alice_web, order_type="LIMIT", price="60000", client_order_id="td-js-rest")
    order = PaperOrder.objects.get()
    html = response.content.decode()
    assert order.status == OrderStatus.NEW
    open_orders = html.split('data-part="open-orders-area"')[1]
    assert f'data-testid="order-cancel" data-order-id="{order.order_id}"' in open_orders


def test_the_scripts_confirm_of_a_reused_client_order_id_answers_with_the_duplicate_notice(alice_web, mark):
    confirm_by_script(alice_web, client_order_id="td-js-same")
    response = confirm_by_script(alice_web, client_order_id="td-js-same")
    existing = PaperOrder.objects.get()
    html = response.content.decode()
    assert response["X-Paper-Fragment"] == "trade-update"
    assert 'data-code="DUPLICATE_CLIENT_ORDER_ID"' in html and f">{existing.order_id}<" in html


def test_the_scripts_confirm_without_a_session_is_a_401_naming_the_login_page(client, mark):
    response = confirm_by_script(client, client_order_id="td-js-out")
    assert response.status_code == 401
    assert response["X-Paper-Login"] == "/paper/login?next=%2Fpaper%2Ftrade%2FBTC-USDT"
    assert not PaperOrder.objects.exists()
    assert place_on_page(client).status_code == 302  # a plain form post still goes to the login page


def test_the_scripts_confirm_with_malformed_input_gets_the_whole_page_with_field_errors(alice_web, mark):
    response = confirm_by_script(alice_web, qty="lots")
    assert response.status_code == 200 and "X-Paper-Fragment" not in response
    assert 'data-code="INVALID"' in response.content.decode() and not PaperOrder.objects.exists()
