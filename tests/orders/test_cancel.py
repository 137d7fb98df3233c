"""Cancel at the venue: CANCEL_REQUESTED until the venue answers; its answer decides the end."""

# ruff: noqa: F811 (the scripted venue's fixtures are imported, then named as test arguments)

from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from executor.connectors.base import ErrorCode, OrderResult
from executor.models import ExchangeAccount
from orders import risk, services, tasks
from orders.models import Order
from tests.orders.lifecycle_venue import accepted, venue, venue_tasks  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def reasons(order: Order) -> list[str]:
    return [row.history_change_reason for row in order.history.order_by("history_date", "history_id")]


def cancel(client, order: Order, capture):
    with capture(execute=True):
        return client.post(f"/api/orders/{order.pk}/cancel")


def test_a_trader_cancels_an_open_order_at_the_venue_and_it_ends_canceled(
    accepted, venue, venue_tasks, client_for, trader, django_capture_on_commit_callbacks
):
    order = accepted()
    response = cancel(client_for(trader), order, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert (response.json()["stage"], response.json()["cancel_requested"]) == ("CANCEL_REQUESTED", True)
    assert venue_tasks == [("cancel_at_venue", order.pk, "celery")]
    assert venue.calls == []  # nothing is sent from the request itself
    tasks.cancel_at_venue(order.pk)  # the worker
    order.refresh_from_db()
    assert (order.status, order.venue_state, order.stage) == ("SUCCESS", "CANCELED", "CANCELED")
    assert venue.orders[order.client_order_id].venue_state == "CANCELED"
    assert reasons(order)[-2:] == ["cancel requested by tina_trader", "cancel answer: venue CANCELED"]
    assert order.cancel_requested_by == trader


def test_a_partly_filled_order_canceled_keeps_its_filled_part_and_gives_the_rest_back_to_the_limits(
    accepted, venue, venue_tasks, trader
):
    order = accepted(qty=Decimal("1"))
    venue.fill(order.client_order_id, ("T1", "0.3", "65000", "1.95"))
    venue.set_state(order.client_order_id, "PARTIALLY_FILLED")
    assert risk.daily_usage("BTC/USDT").daily_qty == Decimal("1")
    services.order_cancel(order_id=order.pk, user=trader)
    tasks.cancel_at_venue(order.pk)
    order.refresh_from_db()
    assert (order.venue_state, order.filled_qty) == ("CANCELED", Decimal("0.3"))
    assert order.fills.get().trade_id == "T1"
    assert risk.daily_usage("BTC/USDT").daily_qty == Decimal("0.3")


def test_a_cancel_racing_a_fill_ends_filled_never_both(accepted, venue, venue_tasks, trader):
    order = accepted()
    services.order_cancel(order_id=order.pk, user=trader)
    # The venue fills the order before the cancel reaches it: it refuses the cancel as final.
    venue.fill(order.client_order_id, ("T1", "1", "65000", "6.5"))
    venue.set_state(order.client_order_id, "FILLED")
    tasks.cancel_at_venue(order.pk)
    order.refresh_from_db()
    assert (order.venue_state, order.filled_qty, order.stage) == ("FILLED", Decimal("1"), "FILLED")
    assert not order.cancel_requested
    assert venue.calls == [f"cancel {order.client_order_id}", f"get {order.client_order_id}"]
    # A late "canceled" from anywhere never turns it CANCELED afterwards.
    venue.set_state(order.client_order_id, "CANCELED")
    tasks.cancel_at_venue(order.pk)
    order.refresh_from_db()
    assert order.venue_state == "FILLED"


def test_a_lost_cancel_answer_is_looked_up_never_assumed(accepted, venue, venue_tasks, trader):
    order = accepted()

    def canceled_but_answer_lost(client_order_id: str) -> OrderResult:
        venue.set_state(client_order_id, "CANCELED")
        return OrderResult.unknown(client_order_id, "read timed out")

    venue.cancel_answer = canceled_but_answer_lost
    services.order_cancel(order_id=order.pk, user=trader)
    tasks.cancel_at_venue(order.pk)
    order.refresh_from_db()
    assert order.venue_state == "CANCELED"
    assert venue.calls[-1] == f"get {order.client_order_id}"


def test_a_lost_cancel_answer_with_the_venue_down_stays_cancel_requested_until_the_venue_says(
    accepted, venue, venue_tasks, trader
):
    order = accepted()
    venue.cancel_answer = lambda cid: OrderResult.unknown(cid, "read timed out")
    venue.down = True
    services.order_cancel(order_id=order.pk, user=trader)
    tasks.cancel_at_venue(order.pk)
    order.refresh_from_db()
    assert (order.status, order.stage) == ("SUCCESS", "CANCEL_REQUESTED")
    venue.down = False
    venue.set_state(order.client_order_id, "CANCELED")
    tasks.refresh_order(order.pk)  # the periodic refresh records what the venue did
    order.refresh_from_db()
    assert order.stage == "CANCELED"


def test_a_cancel_the_venue_refuses_leaves_the_order_open_and_says_why(accepted, venue, venue_tasks, trader):
    order = accepted()
    venue.cancel_answer = lambda cid: OrderResult.failed(cid, ErrorCode.NOT_SUPPORTED, "no cancels here")
    services.order_cancel(order_id=order.pk, user=trader)
    tasks.cancel_at_venue(order.pk)
    order.refresh_from_db()
    assert (order.stage, order.cancel_requested_at) == ("OPEN", None)
    assert "cancel refused by the venue: NOT_SUPPORTED" in order.error_message


def test_the_cancel_of_a_browser_order_goes_to_the_queue_of_the_worker_that_owns_the_account(
    accepted, venue_tasks, trader, django_capture_on_commit_callbacks
):
    account = ExchangeAccount.objects.create(
        owner=trader, label="web", venue="paper", connector="browser", browser_queue="browser-2"
    )
    order = accepted(exchange_account=account)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order_id=order.pk, user=trader)
    assert venue_tasks == [("cancel_at_venue", order.pk, "browser-2")]


def test_viewers_cannot_cancel_and_final_or_unknown_orders_are_refused(
    accepted, client_for, viewer, trader, make_signal, make_order, django_capture_on_commit_callbacks
):
    order = accepted()
    assert cancel(client_for(viewer), order, django_capture_on_commit_callbacks).status_code == 403
    assert Order.objects.get(pk=order.pk).cancel_requested_at is None
    for status, state in (("UNKNOWN", ""), ("SUCCESS", "FILLED"), ("SUCCESS", "EXPIRED")):
        other = make_order(make_signal(), status=status, venue_state=state)
        response = cancel(client_for(trader), other, django_capture_on_commit_callbacks)
        assert response.status_code == 409, (status, state)


def test_the_admin_action_cancels_through_the_same_service(accepted, venue_tasks, trader, viewer):
    from django.contrib.messages.storage.fallback import FallbackStorage

    order = accepted()
    admin = site._registry[Order]

    def request(user):
        req = RequestFactory().post("/admin/orders/order/")
        req.user = user
        req.session = {}
        req._messages = FallbackStorage(req)
        return req

    admin.cancel(request(viewer), Order.objects.filter(pk=order.pk))
    assert Order.objects.get(pk=order.pk).cancel_requested_at is None
    admin.cancel(request(trader), Order.objects.filter(pk=order.pk))
    order.refresh_from_db()
    assert order.stage == "CANCEL_REQUESTED"
    assert reasons(order)[-1] == "cancel requested by tina_trader"
