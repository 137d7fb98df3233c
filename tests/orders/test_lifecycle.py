"""An accepted order is followed at its venue to its end: venue state, fills, fees, events."""

# ruff: noqa: F811 (the scripted venue's fixtures are imported, then named as test arguments)

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from executor.connectors.base import OrderResult, ResultStatus
from orders import lifecycle, risk, services, tasks
from orders.models import Fill, Order
from tests.orders.lifecycle_venue import accepted, venue, venue_tasks  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def reasons(order: Order) -> list[str]:
    return [row.history_change_reason for row in order.history.order_by("history_date", "history_id")]


def test_a_resting_order_goes_partly_filled_then_filled_with_each_fill_recorded_once(
    accepted, venue, sent_events, django_capture_on_commit_callbacks
):
    order = accepted()
    venue.fill(order.client_order_id, ("T1", "0.4", "65000", "2.6"))
    venue.set_state(order.client_order_id, "PARTIALLY_FILLED")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.order_refresh(order_id=order.pk)
    order.refresh_from_db()
    assert (order.venue_state, order.filled_qty, order.avg_fill_price) == ("PARTIALLY_FILLED", Decimal("0.4"), 65000)
    assert order.stage == "PARTIALLY_FILLED"

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.order_refresh(order_id=order.pk)  # nothing new at the venue: nothing recorded twice
    venue.fill(order.client_order_id, ("T2", "0.6", "64900", "3.894"))
    venue.set_state(order.client_order_id, "FILLED")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.order_refresh(order_id=order.pk)
    order.refresh_from_db()
    assert order.venue_state == "FILLED" and order.filled_qty == Decimal("1")
    assert order.avg_fill_price == Decimal("64940")  # (0.4 x 65000 + 0.6 x 64900) / 1
    assert (order.fee, order.fee_asset) == (Decimal("6.494"), "USDT")
    assert list(order.fills.values_list("trade_id", "qty", "fee")) == [
        ("T1", Decimal("0.4"), Decimal("2.6")),
        ("T2", Decimal("0.6"), Decimal("3.894")),
    ]
    assert reasons(order)[-2:] == [
        "venue: fill T1 0.4 @ 65000, venue PARTIALLY_FILLED",
        "venue: fill T2 0.6 @ 64900, venue FILLED",
    ]
    assert Fill.history.filter(trade_id="T1").count() == 1  # the fills are audited too
    updates = [data for _, kind, data in sent_events if kind == "order_updated"]
    assert [u["venue_state"] for u in updates] == ["PARTIALLY_FILLED", "FILLED"]
    assert updates[-1]["fills"][1]["trade_id"] == "T2"


def test_a_final_order_is_not_asked_again_and_a_late_open_answer_never_reopens_it(accepted, venue):
    order = accepted()
    venue.set_state(order.client_order_id, "FILLED")
    lifecycle.order_refresh(order_id=order.pk)
    calls = len(venue.calls)
    lifecycle.order_refresh(order_id=order.pk)
    assert len(venue.calls) == calls
    late = OrderResult(ResultStatus.SUCCESS, order.client_order_id, venue_state="OPEN")
    with transaction.atomic():
        row = Order.objects.select_for_update().get(pk=order.pk)
        services.apply_venue_view(row, late)
        assert row.venue_state == "FILLED"


def test_an_unreachable_venue_leaves_the_order_open_never_failed(
    accepted, venue, sent_events, django_capture_on_commit_callbacks
):
    order = accepted()
    venue.down = True
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.order_refresh(order_id=order.pk)
    order.refresh_from_db()
    assert (order.status, order.venue_state) == ("SUCCESS", "OPEN")
    assert order.last_checked_at is not None
    assert not [e for e in sent_events if e[1] == "order_updated"]


def test_a_market_order_filled_in_its_placement_answer_records_its_fill_then(make_signal, make_order):
    order = make_order(make_signal(), order_type="MARKET", price=None)
    services.order_place(order_id=order.pk)  # the dry run fills at once, in one fill
    order.refresh_from_db()
    assert (order.status, order.venue_state, order.filled_qty) == ("SUCCESS", "FILLED", Decimal("1"))
    assert order.avg_fill_price == Decimal("65000")
    assert order.fills.get().qty == Decimal("1")
    assert order.stage == "FILLED"


def test_the_schedule_refreshes_open_orders_in_bounded_batches_on_each_accounts_queue(
    accepted, venue, venue_tasks, settings, trader, make_signal, make_order
):
    from executor.models import ExchangeAccount

    settings.ORDER_REFRESH_BATCH = 2
    browser = ExchangeAccount.objects.create(
        owner=trader, label="web", venue="paper", connector="browser", browser_queue="browser-eu"
    )
    first, second = accepted(), accepted(exchange_account=browser)
    third = accepted()
    make_order(make_signal(), status="SUCCESS", venue_state="FILLED")  # final: never refreshed
    make_order(make_signal(), status="FAILED")
    assert tasks.refresh_open_orders() == 2
    assert venue_tasks == [("refresh_order", first.pk, "celery"), ("refresh_order", second.pk, "browser-eu")]
    assert tasks.refresh_open_orders() == 1  # the two just queued wait ORDER_REFRESH_EVERY
    assert venue_tasks[-1] == ("refresh_order", third.pk, "celery")
    # 10 s later: the API orders are due again, the browser one waits ORDER_REFRESH_BROWSER_EVERY (30).
    settings.ORDER_REFRESH_BATCH = 10
    Order.objects.update(last_checked_at=timezone.now() - timedelta(seconds=10))
    assert tasks.refresh_open_orders() == 2
    assert {order_id for _, order_id, _ in venue_tasks[-2:]} == {first.pk, third.pk}
    Order.objects.filter(pk=second.pk).update(last_checked_at=timezone.now() - timedelta(seconds=31))
    assert tasks.refresh_open_orders() == 1 and venue_tasks[-1] == ("refresh_order", second.pk, "browser-eu")
    tasks.refresh_order(first.pk)  # what the worker then runs
    assert f"get {first.client_order_id}" in venue.calls


def test_beats_refresh_at_a_browser_account_gives_way_to_orders_waiting_to_be_placed(
    accepted, venue, trader, make_signal, make_order
):
    """One browser worker places and reads its accounts' orders one task at a time: a routine
    refresh (a page load) must not hold up the orders queued behind it."""
    from executor.models import ExchangeAccount

    web = ExchangeAccount.objects.create(owner=trader, label="web", venue="paper", connector="browser")
    other_worker = ExchangeAccount.objects.create(
        owner=trader, label="web-eu", venue="paper", connector="browser", browser_queue="browser-eu"
    )
    api = ExchangeAccount.objects.create(owner=trader, label="api", venue="paper", connector="api")
    resting, at_api = accepted(exchange_account=web), accepted(exchange_account=api)
    queued = make_order(make_signal(), status="SUBMITTING", exchange_account=web)  # not started yet
    make_order(make_signal(), status="SUBMITTING", exchange_account=api)

    tasks.refresh_order(resting.pk, True)
    tasks.refresh_order(at_api.pk, True)  # the regular workers run many tasks at once: not put off
    assert f"get {resting.client_order_id}" not in venue.calls
    assert f"get {at_api.client_order_id}" in venue.calls

    tasks.refresh_order(resting.pk)  # a person's Refresh is never put off
    assert f"get {resting.client_order_id}" in venue.calls

    venue.calls.clear()
    Order.objects.filter(pk=queued.pk).update(exchange_account=other_worker)  # another worker's order
    tasks.refresh_order(resting.pk, True)
    assert f"get {resting.client_order_id}" in venue.calls
    venue.calls.clear()
    Order.objects.filter(pk=queued.pk).update(exchange_account=web, placement_started_at=timezone.now())
    tasks.refresh_order(resting.pk, True)  # its placement is under way: nothing waits behind this
    assert f"get {resting.client_order_id}" in venue.calls


def test_beat_queues_no_refresh_for_a_browser_worker_with_orders_waiting_to_be_placed(
    accepted, venue, venue_tasks, trader, make_signal, make_order
):
    from executor.models import ExchangeAccount

    web = ExchangeAccount.objects.create(owner=trader, label="web", venue="paper", connector="browser")
    resting, at_api = accepted(exchange_account=web), accepted()
    Order.objects.update(last_checked_at=None)
    queued = make_order(make_signal(), status="SUBMITTING", exchange_account=web)

    assert tasks.refresh_open_orders() == 1
    assert venue_tasks == [("refresh_order", at_api.pk, "celery")]
    Order.objects.filter(pk=queued.pk).update(placement_started_at=timezone.now())
    assert tasks.refresh_open_orders() == 1  # still due: queued as soon as nothing waits
    assert venue_tasks[-1] == ("refresh_order", resting.pk, "browser")


def test_refresh_on_demand_is_queued_for_an_open_order_and_refused_for_a_final_one(
    accepted, venue_tasks, client_for, trader, viewer, make_signal, make_order, django_capture_on_commit_callbacks
):
    order = accepted()
    assert client_for(viewer).post(f"/api/orders/{order.pk}/refresh").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(trader).post(f"/api/orders/{order.pk}/refresh")
    assert response.status_code == 202 and response.json()["stage"] == "OPEN"
    assert venue_tasks == [("refresh_order", order.pk, "celery")]
    done = make_order(make_signal(), status="SUCCESS", venue_state="FILLED")
    response = client_for(trader).post(f"/api/orders/{done.pk}/refresh")
    assert response.status_code == 409 and "FILLED" in response.json()["message"]


def test_a_fill_is_unique_per_order_and_venue_trade_id(accepted):
    order = accepted()
    Fill.objects.create(order=order, trade_id="T1", qty=1, price=1, time=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Fill.objects.create(order=order, trade_id="T1", qty=1, price=1, time=timezone.now())


def test_daily_limits_count_live_orders_in_full_and_final_ones_by_what_filled(make_signal, make_order, accepted, venue):
    make_order(make_signal(), qty=Decimal("1"))  # SUBMITTING: 1
    make_order(make_signal(), status="UNKNOWN", qty=Decimal("2"), needs_review=True)  # in review: 2
    open_order = accepted(qty=Decimal("4"))  # open at the venue: 4
    partly_canceled = accepted(qty=Decimal("8"))
    venue.fill(partly_canceled.client_order_id, ("T9", "0.5", "65000", "0"))
    venue.set_state(partly_canceled.client_order_id, "CANCELED")
    lifecycle.order_refresh(order_id=partly_canceled.pk)  # canceled with 0.5 filled: 0.5
    make_order(make_signal(), status="SUCCESS", venue_state="FILLED", qty=Decimal("16"))  # filled: 16
    make_order(make_signal(), status="SUCCESS", venue_state="EXPIRED", qty=Decimal("32"))  # nothing filled: 0
    make_order(make_signal(), status="FAILED", qty=Decimal("64"))  # 0
    make_order(make_signal(), status="CANCELED", qty=Decimal("128"))  # 0
    usage = risk.daily_usage("BTC/USDT")
    assert usage.daily_qty == Decimal("23.5")
    assert usage.daily_notional == Decimal("23.5") * 65000
    assert open_order.qty == 4
