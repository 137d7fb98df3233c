"""Refusals on record (seed 001 §9.3): every refused confirm is kept with who, when, the signal,
what was asked, the rule and the numbers it compared, although the confirm itself rolled back."""

from decimal import Decimal as D

import pytest

from orders import services as order_services
from orders.models import Order
from portfolio.models import ConfirmRefusal
from tradedesk.exceptions import ApplicationError


@pytest.fixture(autouse=True)
def limits(settings):
    settings.RISK_MAX_ORDER_QTY = "2"
    settings.RISK_MAX_DAILY_QTY = "5"
    settings.RISK_MAX_DAILY_NOTIONAL = ""


def refuse(user, **asked) -> ConfirmRefusal:
    values = {"order_type": "LIMIT", "price": D("65000"), **asked}
    with pytest.raises(ApplicationError):
        order_services.order_create(user=user, **values)
    assert ConfirmRefusal.objects.count() == 1
    return ConfirmRefusal.objects.get()


def test_an_order_over_the_per_order_limit_leaves_a_record_naming_the_rule_and_its_numbers(trader, make_signal):
    signal = make_signal()

    refusal = refuse(trader, signal_id=signal.pk, qty=D("2.5"))

    assert (refusal.category, refusal.rule, refusal.field) == ("risk", "risk_max_order_qty", "qty")
    assert refusal.figures == {"qty": "2.5", "max_order_qty": "2"}
    assert refusal.user == trader
    assert refusal.signal == signal and refusal.signal_ref == signal.pk
    assert (refusal.symbol, refusal.side, refusal.order_type) == ("BTC/USDT", "BUY", "LIMIT")
    assert (refusal.qty, refusal.price) == (D("2.5"), D("65000"))
    assert refusal.http_status == 422
    assert "per-order limit of 2" in refusal.message
    assert refusal.created_at is not None
    assert not Order.objects.exists()


def test_an_order_over_the_daily_qty_limit_records_what_was_used_today(trader, make_signal, make_order):
    make_order(make_signal(), status="SUCCESS", qty=D("2"))
    make_order(make_signal(), status="SUCCESS", qty=D("2"))

    refusal = refuse(trader, signal_id=make_signal().pk, qty=D("1.5"))

    assert refusal.rule == "risk_max_daily_qty"
    assert refusal.figures == {"qty": "1.5", "used_today": "4", "max_daily_qty": "5", "left": "1"}


def test_an_order_over_the_daily_notional_limit_records_the_notional_it_compared(
    settings, trader, make_signal, make_order
):
    settings.RISK_MAX_DAILY_NOTIONAL = "100000"
    make_order(make_signal(), status="SUCCESS", qty=D("1"), price=D("65000"), reference_price=D("65000"))

    refusal = refuse(trader, signal_id=make_signal().pk, qty=D("1"), price=D("40000"))

    assert refusal.rule == "risk_max_daily_notional"
    assert refusal.figures == {
        "qty": "1",
        "reference_price": "40000",
        "notional": "40000",
        "used_today": "65000",
        "max_daily_notional": "100000",
        "left": "35000",
    }


def test_a_signal_that_can_no_longer_be_ordered_is_recorded_as_an_illegal_state(trader, make_signal):
    signal = make_signal(status="REJECTED")

    refusal = refuse(trader, signal_id=signal.pk, qty=D("1"))

    assert (refusal.category, refusal.rule, refusal.http_status) == ("state", "signal_not_orderable", 409)
    assert refusal.figures == {"signal_status": "REJECTED"}


def test_a_second_order_on_an_ordered_signal_records_the_order_already_there(trader, make_signal, make_order):
    signal = make_signal()
    existing = make_order(signal, status="SUCCESS")

    refusal = refuse(trader, signal_id=signal.pk, qty=D("1"))

    assert (refusal.category, refusal.rule) == ("state", "signal_already_ordered")
    assert refusal.figures == {"existing_order_id": existing.pk, "existing_order_status": "SUCCESS"}


def test_a_signal_that_does_not_exist_is_recorded_with_the_id_asked_for(trader):
    refusal = refuse(trader, signal_id=987654, qty=D("1"))

    assert (refusal.category, refusal.rule, refusal.http_status) == ("state", "not_found", 404)
    assert refusal.signal is None and refusal.signal_ref == 987654


def test_a_limit_order_without_a_price_is_recorded_as_bad_input_naming_price(trader, make_signal):
    refusal = refuse(trader, signal_id=make_signal().pk, qty=D("1"), price=None)

    assert (refusal.category, refusal.rule, refusal.field) == ("input", "invalid", "price")


def test_a_side_against_the_signal_is_recorded_naming_side(trader, make_signal):
    refusal = refuse(trader, signal_id=make_signal().pk, qty=D("1"), side="SELL")

    assert (refusal.rule, refusal.field, refusal.side) == ("invalid", "side", "SELL")


def test_no_desk_account_for_the_exchange_executor_is_recorded(settings, trader, make_signal):
    settings.EXECUTOR = "exchange"

    refusal = refuse(trader, signal_id=make_signal().pk, qty=D("1"))

    assert (refusal.category, refusal.rule) == ("state", "no_desk_account")


def test_the_record_outlives_the_refused_transaction_and_a_later_confirm_still_works(trader, make_signal):
    signal = make_signal()
    refuse(trader, signal_id=signal.pk, qty=D("3"))

    order = order_services.order_create(user=trader, signal_id=signal.pk, qty=D("1"), order_type="MARKET")

    assert order.pk is not None
    assert ConfirmRefusal.objects.count() == 1  # an accepted confirm leaves no refusal


def test_a_refusal_through_the_api_is_recorded_with_the_user_who_asked(client_for, trader, make_signal):
    signal = make_signal()

    response = client_for(trader).post(
        "/api/orders", {"signal_id": signal.pk, "qty": "9", "order_type": "LIMIT", "price": "65000"}, format="json"
    )

    assert response.status_code == 422
    refusal = ConfirmRefusal.objects.get()
    assert (refusal.user, refusal.rule, refusal.qty) == (trader, "risk_max_order_qty", D("9"))


def test_a_refusal_in_the_desk_order_form_is_recorded(client, trader, make_signal):
    signal = make_signal()
    client.force_login(trader)

    response = client.post(
        f"/signals/{signal.pk}/order/confirm/", {"order_type": "LIMIT", "price": "65000", "qty": "3", "nonce": "n1"}
    )

    assert response.status_code == 422
    assert ConfirmRefusal.objects.get().rule == "risk_max_order_qty"


def test_a_market_order_with_a_price_is_recorded_naming_price(trader, make_signal):
    refusal = refuse(trader, signal_id=make_signal().pk, qty=D("1"), order_type="MARKET", price=D("65000"))

    assert (refusal.category, refusal.rule, refusal.field, refusal.order_type) == (
        "input",
        "invalid",
        "price",
        "MARKET",
    )


@pytest.fixture
def venue_with_minimums(settings, trader):
    """A desk account whose venue rules (as beat's refresh caches them) have a minimum qty and a
    minimum order value; its balances cannot be read (nothing listens there), so only the rules
    decide."""
    import time

    from django.core.cache import cache

    from executor.connectors.base import Instrument
    from executor.models import ExchangeAccount
    from executor.services import exchange_account_save
    from orders import venue_rules

    cache.clear()
    settings.EXECUTOR = "exchange"
    account = exchange_account_save(
        account=ExchangeAccount(
            owner=trader,
            label="rules",
            venue="paper",
            connector="api",
            base_url="http://127.0.0.1:9",
            is_desk_default=True,
        ),
        secrets={"api_key": "k"},
    )
    rules = {"BTC/USDT": Instrument("BTC/USDT", D("0.001"), D("0.01"), D("0.1"), D("100"), "BTC", "USDT")}
    venue_rules._cache_set(venue_rules._cache_key(account), (time.time(), rules))
    yield account
    cache.clear()


def test_a_quantity_under_the_venues_minimum_is_recorded_with_the_minimum(trader, make_signal, venue_with_minimums):
    refusal = refuse(trader, signal_id=make_signal().pk, qty=D("0.005"))

    assert (refusal.category, refusal.rule, refusal.field) == ("venue", "qty_below_min", "qty")
    assert refusal.figures == {"qty": "0.005", "min_qty": "0.01"}


def test_an_order_under_the_minimum_value_is_recorded_with_the_notional(trader, make_signal, venue_with_minimums):
    refusal = refuse(trader, signal_id=make_signal().pk, qty=D("0.01"), price=D("9000"))

    assert (refusal.category, refusal.rule) == ("venue", "below_min_notional")
    assert refusal.figures == {"qty": "0.01", "price": "9000", "notional": "90", "min_notional": "100"}
