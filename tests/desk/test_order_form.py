"""The confirm-and-order form: defaults, cost, venue price and drift, limit usage, risk refusals
inline, and one order however often the form is sent."""

import re
from decimal import Decimal

import pytest
from django.core.cache import cache

from orders.models import Order, RiskLimit
from signals.models import Signal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def venue_prices(settings):
    settings.DRY_RUN_PRICES = {"BTC/USDT": Decimal("65650"), "ETH/USDT": Decimal("3200")}
    cache.clear()


def nonce_of(html: str) -> str:
    return re.search(r'name="nonce" value="([^"]+)"', html).group(1)


def confirm(client, signal, **fields):
    body = {"order_type": "LIMIT", "price": "65000", "qty": "0.5", "nonce": "n-1", **fields}
    return client.post(f"/signals/{signal.pk}/order/confirm/", body, HTTP_HX_REQUEST="true")


def test_the_form_defaults_to_the_suggestion_and_shows_cost_drift_and_limits(page_for, trader, make_signal):
    RiskLimit.objects.create(symbol="BTC/USDT", max_order_qty=Decimal("2"), max_daily_qty=Decimal("5"))
    signal = make_signal(suggest_price=Decimal("65000"), suggest_qty=Decimal("0.5"))
    html = page_for(trader).get(f"/signals/{signal.pk}/order/").content.decode()
    assert 'name="price" id="order-price" value="65000"' in html
    assert 'name="qty" id="order-qty" value="0.5"' in html
    assert re.search(r'<option value="LIMIT" selected>', html)
    assert "65,650" in html  # the venue's current price
    assert "+1.00%" in html  # drift from the suggested 65,000
    assert "32,500 USDT" in html  # 0.5 x 65,000
    assert "0.5 / 2" in html and "25.0%" in html  # per-order limit
    assert "0.5 / 5" in html and "10.0%" in html  # daily limit


def test_a_signal_without_a_price_defaults_to_market(page_for, trader, make_signal):
    signal = make_signal(suggest_price=None)
    html = page_for(trader).get(f"/signals/{signal.pk}/order/").content.decode()
    assert re.search(r'<option value="MARKET" selected>', html)
    assert 'id="order-price" value=""' in html
    assert "32,825 USDT" in html  # 0.5 at the venue's 65,650


def test_the_daily_usage_counts_todays_live_orders(page_for, trader, make_signal, make_order):
    make_order(make_signal(), status="SUCCESS", qty=Decimal("40"))
    make_order(make_signal(), status="FAILED", qty=Decimal("30"))  # failed orders use nothing
    signal = make_signal()
    html = page_for(trader).get(f"/signals/{signal.pk}/order/preview/?order_type=LIMIT&price=65000&qty=2").content
    assert "42 / 100" in html.decode() and "42.0%" in html.decode()


def test_the_preview_warns_before_the_confirm_when_a_limit_would_be_broken(page_for, trader, make_signal):
    signal = make_signal()
    html = page_for(trader).get(f"/signals/{signal.pk}/order/preview/?order_type=LIMIT&price=65000&qty=12").content
    assert "12 is over the per-order limit of 10" in html.decode()


def test_confirm_creates_the_order_and_shows_its_live_status(
    page_for, trader, make_signal, queued_tasks, django_capture_on_commit_callbacks
):
    signal = make_signal()
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(page_for(trader), signal, qty="0.4", price="64900")
    assert response.status_code == 200
    order = Order.objects.get(signal=signal)
    assert (order.qty, order.price, order.order_type, order.created_by) == (
        Decimal("0.4"),
        Decimal("64900"),
        "LIMIT",
        trader,
    )
    assert f'data-order-status="{order.pk}"' in response.content.decode()
    assert queued_tasks == [order.pk]


def test_a_market_order_ignores_a_typed_price(page_for, trader, make_signal):
    signal = make_signal()
    confirm(page_for(trader), signal, order_type="MARKET", price="1")
    order = Order.objects.get(signal=signal)
    assert (order.order_type, order.price, order.reference_price) == ("MARKET", None, Decimal("65650"))


def test_a_risk_failure_shows_its_reason_in_the_form_and_makes_no_order(page_for, trader, make_signal):
    signal = make_signal()
    response = confirm(page_for(trader), signal, qty="12")
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="order-error"' in html and "12 is over the per-order limit of 10" in html
    assert 'id="order-qty" value="12"' in html  # what the trader typed is kept
    assert nonce_of(html) != "n-1"  # the corrected form is a new confirmation
    assert not Order.objects.exists()


def test_a_daily_limit_failure_says_how_much_is_left(page_for, trader, make_signal, make_order):
    make_order(make_signal(), status="SUCCESS", qty=Decimal("95"))
    response = confirm(page_for(trader), make_signal(), qty="8")
    assert response.status_code == 422
    assert "over the daily limit of 100 (5 left today)" in response.content.decode()


def test_bad_input_is_a_422_naming_the_field(page_for, trader, make_signal):
    signal = make_signal()
    client = page_for(trader)
    for fields, name in [({"qty": "-1"}, "Qty"), ({"qty": "abc"}, "Qty"), ({"price": ""}, "Price")]:
        response = confirm(client, signal, **fields)
        assert response.status_code == 422, fields
        assert re.search(rf'data-field="\w+">{name}: ', response.content.decode()), fields
    assert not Order.objects.exists()


def test_the_same_form_sent_twice_makes_one_order(page_for, trader, make_signal):
    signal = make_signal()
    client = page_for(trader)
    first = confirm(client, signal, nonce="same")
    second = confirm(client, signal, nonce="same")
    assert first.status_code == second.status_code == 200
    order = Order.objects.get(signal=signal)
    assert "already sent" in second.content.decode() and f"Order #{order.pk}" in second.content.decode()


def test_a_second_tab_cannot_order_the_same_signal_again(page_for, trader, make_signal):
    signal = make_signal()
    client = page_for(trader)
    assert confirm(client, signal, nonce="tab-1").status_code == 200
    second = confirm(client, signal, nonce="tab-2")
    assert second.status_code == 409
    assert "already has order" in second.content.decode()
    assert Order.objects.filter(signal=signal).count() == 1


def test_a_signal_that_left_the_queue_cannot_be_ordered(page_for, trader, make_signal):
    signal = make_signal(status="REJECTED")
    client = page_for(trader)
    form = client.get(f"/signals/{signal.pk}/order/", HTTP_HX_REQUEST="true")
    assert form.status_code == 409 and "REJECTED" in form.content.decode()
    assert confirm(client, signal).status_code == 409
    assert not Order.objects.exists()
    assert Signal.objects.get(pk=signal.pk).status == "REJECTED"


def test_the_paper_exchange_price_is_shown_for_the_browser_venue(
    page_for, trader, make_signal, settings, paper_instruments
):
    from executor.models import ExchangeAccount
    from executor.paper.services.prices import paper_price_set

    settings.EXECUTOR = "exchange"
    ExchangeAccount.objects.create(
        owner=trader, label="paper (browser)", venue="paper", connector="browser", is_desk_default=True
    )
    paper_price_set(symbol="BTC-USDT", price=Decimal("64350"))
    signal = make_signal(suggest_price=Decimal("65000"))
    html = page_for(trader).get(f"/signals/{signal.pk}/order/").content.decode()
    assert "64,350" in html and "paper (browser)" in html
    assert "-1.00%" in html
