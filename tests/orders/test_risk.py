from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders import services
from orders.models import Order, RiskLimit
from tradedesk.exceptions import RiskRejected

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings):
    settings.RISK_MAX_ORDER_QTY = "2"
    settings.RISK_MAX_DAILY_QTY = "5"
    settings.RISK_MAX_DAILY_NOTIONAL = ""


@pytest.fixture
def order_for(trader, make_signal, queued_tasks):
    def place(qty: str, symbol: str = "BTC/USDT", price: str | None = "100") -> Order:
        signal = make_signal(symbol=symbol)
        order_type = "LIMIT" if price else "MARKET"
        return services.order_create(
            user=trader,
            signal_id=signal.pk,
            qty=Decimal(qty),
            order_type=order_type,
            price=Decimal(price) if price else None,
        )

    return place


def test_an_order_over_the_per_order_limit_is_rejected(order_for):
    with pytest.raises(RiskRejected) as caught:
        order_for("2.5")
    assert caught.value.code == "risk_max_order_qty"
    assert caught.value.field == "qty"
    assert "per-order limit of 2" in caught.value.message
    assert not Order.objects.exists()


def test_an_order_at_the_per_order_limit_passes(order_for):
    assert order_for("2").status == "SUBMITTING"


def test_the_daily_qty_limit_counts_todays_live_orders_for_the_symbol(order_for):
    order_for("2")
    order_for("2")
    with pytest.raises(RiskRejected) as caught:
        order_for("1.5")
    assert caught.value.code == "risk_max_daily_qty"
    assert "1 left today" in caught.value.message
    order_for("1")  # exactly the limit
    order_for("2", symbol="ETH/USDT")  # other symbols have their own total


def test_failed_and_canceled_orders_do_not_use_the_daily_limit(order_for):
    for _ in range(2):
        Order.objects.filter(pk=order_for("2").pk).update(status="FAILED")
    Order.objects.filter(pk=order_for("2").pk).update(status="CANCELED")
    order_for("2")
    order_for("2")


def test_yesterdays_orders_do_not_use_todays_limit(order_for):
    old = order_for("2")
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    order_for("2")
    order_for("2")
    order_for("1")


def test_the_daily_notional_limit_uses_the_known_price(order_for, settings):
    settings.RISK_MAX_DAILY_NOTIONAL = "300"
    order_for("2", price="100")
    with pytest.raises(RiskRejected) as caught:
        order_for("1.5", price="100")
    assert caught.value.code == "risk_max_daily_notional"
    order_for("1", price="100")


def test_notional_is_not_checked_without_any_known_price(order_for, make_signal, trader, settings, queued_tasks):
    settings.RISK_MAX_DAILY_NOTIONAL = "1"
    signal = make_signal(suggest_price=None)
    order = services.order_create(user=trader, signal_id=signal.pk, qty=Decimal("1"), order_type="MARKET")
    assert order.reference_price is None


def test_a_symbol_limit_set_in_admin_overrides_the_defaults(order_for):
    RiskLimit.objects.create(symbol="BTC/USDT", max_order_qty=Decimal("10"), max_daily_qty=None)
    order_for("4")  # over the default per-order limit of 2, under the symbol's 10
    with pytest.raises(RiskRejected) as caught:
        order_for("2")  # the daily default (5) still applies where the row leaves it empty
    assert caught.value.code == "risk_max_daily_qty"


def test_a_risk_rejection_is_a_422_naming_the_rule(client_for, trader, make_signal):
    signal = make_signal()
    response = client_for(trader).post(
        "/api/orders", {"signal_id": signal.pk, "qty": "3", "order_type": "LIMIT", "price": "1"}, format="json"
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "risk_max_order_qty"
    assert "qty" in body["fields"]
