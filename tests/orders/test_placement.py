"""The placement task and the results it records, through the dry-run connector."""

from decimal import Decimal
from unittest import mock

import pytest

from executor.connectors import dry_run
from executor.connectors.base import ErrorCode, OrderResult, ResultStatus
from orders import services, tasks
from orders.models import Order
from signals.models import Signal
from tradedesk.exceptions import IllegalTransition

pytestmark = pytest.mark.django_db


@pytest.fixture
def spy_place(monkeypatch):
    calls = []
    original = dry_run.DryRunConnector.place_order

    def place(self, ticket):
        calls.append(ticket.client_order_id)
        return original(self, ticket)

    monkeypatch.setattr(dry_run.DryRunConnector, "place_order", place)
    return calls


def test_a_limit_order_fills_at_its_price_and_executes_the_signal(
    make_signal, make_order, sent_events, django_capture_on_commit_callbacks
):
    signal = make_signal()
    order = make_order(signal, price=Decimal("64000"), qty=Decimal("0.5"))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.place_order(order.pk)
    order.refresh_from_db()
    assert order.status == "SUCCESS"
    assert order.exchange_order_id.startswith("dry-")
    assert order.avg_fill_price == Decimal("64000")
    assert order.filled_qty == Decimal("0.5")
    assert order.placement_started_at is not None and order.completed_at is not None
    assert Signal.objects.get(pk=signal.pk).status == "EXECUTED"
    types = [(group, kind) for group, kind, _ in sent_events]
    assert ("orders", "order_updated") in types and ("signals", "signal_updated") in types


def test_a_market_order_fills_at_the_last_known_price(make_signal, make_order, settings):
    settings.DRY_RUN_PRICES = {"BTC/USDT": Decimal("70000")}
    order = make_order(make_signal(), order_type="MARKET", price=None, reference_price=Decimal("65000"))
    tasks.place_order(order.pk)
    order.refresh_from_db()
    assert order.avg_fill_price == Decimal("70000")


def test_a_failed_order_stores_its_error_and_leaves_the_signal_orderable(make_signal, make_order):
    signal = make_signal(status="ACCEPTED")
    order = make_order(signal, order_type="MARKET", price=None, reference_price=None)
    tasks.place_order(order.pk)
    order.refresh_from_db()
    assert order.status == "FAILED"
    assert order.error_code == ErrorCode.NO_PRICE
    assert "DRY_RUN_PRICES" in order.error_message
    assert Signal.objects.get(pk=signal.pk).status == "ACCEPTED"


def test_a_redelivered_task_places_once(make_signal, make_order, spy_place):
    order = make_order(make_signal())
    tasks.place_order(order.pk)
    tasks.place_order(order.pk)
    assert spy_place == [order.client_order_id]
    order.refresh_from_db()
    assert order.status == "SUCCESS"


def test_a_task_redelivered_after_a_crash_looks_the_order_up_instead_of_placing(make_signal, make_order, spy_place):
    order = make_order(make_signal())
    connector = dry_run.DryRunConnector()
    from executor.connectors.base import OrderTicket

    # The first delivery reached the venue, then the worker died before recording the result.
    connector.place_order(OrderTicket(order.client_order_id, order.symbol, order.side, "LIMIT", order.qty, order.price))
    Order.objects.filter(pk=order.pk).update(placement_started_at=order.created_at)
    spy_place.clear()
    tasks.place_order(order.pk)
    order.refresh_from_db()
    assert spy_place == []
    assert order.status == "SUCCESS"
    assert order.exchange_order_id


def test_an_attempt_the_venue_does_not_show_waits_as_unknown_and_is_never_resubmitted(
    make_signal, make_order, spy_place
):
    order = make_order(make_signal())
    Order.objects.filter(pk=order.pk).update(placement_started_at=order.created_at)
    tasks.place_order(order.pk)
    order.refresh_from_db()
    assert spy_place == []
    assert order.status == "UNKNOWN"
    assert order.error_code == ErrorCode.UNKNOWN_OUTCOME


def test_a_lost_reply_is_settled_at_once_by_looking_the_order_up(make_signal, make_order, monkeypatch):
    order = make_order(make_signal())
    original = dry_run.DryRunConnector.place_order

    def placed_but_reply_lost(self, ticket):
        original(self, ticket)
        return OrderResult.unknown(ticket.client_order_id, "read timed out")

    monkeypatch.setattr(dry_run.DryRunConnector, "place_order", placed_but_reply_lost)
    tasks.place_order(order.pk)
    order.refresh_from_db()
    assert order.status == "SUCCESS"
    assert order.exchange_order_id.startswith("dry-")
    reasons = [r.history_change_reason for r in Order.history.filter(id=order.pk).order_by("history_date")]
    assert reasons[-2:] == ["venue answer lost", "venue result SUCCESS"]


def test_a_connector_crash_makes_the_order_unknown_not_failed(make_signal, make_order, monkeypatch, spy_place):
    order = make_order(make_signal())
    monkeypatch.setattr(dry_run.DryRunConnector, "place_order", mock.Mock(side_effect=ConnectionError("reset")))
    tasks.place_order(order.pk)
    order.refresh_from_db()
    assert order.status == "UNKNOWN"
    assert "reset" in order.error_message


def test_a_canceled_order_is_never_placed(make_signal, make_order, trader, spy_place):
    order = make_order(make_signal())
    services.order_cancel(order_id=order.pk, user=trader)
    tasks.place_order(order.pk)
    assert spy_place == []
    assert Order.objects.get(pk=order.pk).status == "CANCELED"


def test_an_order_being_placed_cannot_be_canceled(make_signal, make_order, trader):
    order = make_order(make_signal())
    Order.objects.filter(pk=order.pk).update(placement_started_at=order.created_at)
    with pytest.raises(IllegalTransition):
        services.order_cancel(order_id=order.pk, user=trader)


@pytest.mark.parametrize(
    "status,venue_state",
    [("SUCCESS", "FILLED"), ("SUCCESS", "CANCELED"), ("FAILED", ""), ("CANCELED", ""), ("UNKNOWN", "")],
)
def test_a_finished_order_cannot_be_canceled(client_for, trader, make_signal, make_order, status, venue_state):
    # An accepted order still open at the venue can be (tests/orders/test_cancel.py); a final one cannot.
    order = make_order(make_signal(), status=status, venue_state=venue_state)
    response = client_for(trader).post(f"/api/orders/{order.pk}/cancel")
    assert response.status_code == 409
    assert (venue_state or status) in response.json()["message"]


def test_a_trader_cancels_a_queued_order_over_the_api(client_for, trader, viewer, make_signal, make_order):
    order = make_order(make_signal())
    assert client_for(viewer).post(f"/api/orders/{order.pk}/cancel").status_code == 403
    response = client_for(trader).post(f"/api/orders/{order.pk}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "CANCELED"


@pytest.mark.parametrize("status", ["SUCCESS", "FAILED", "CANCELED"])
def test_a_result_for_a_finished_order_is_ignored(make_signal, make_order, status):
    order = make_order(make_signal(), status=status)
    late = OrderResult(ResultStatus.SUCCESS, order.client_order_id, exchange_order_id="late")
    services.order_record_result(order_id=order.pk, result=late)
    order.refresh_from_db()
    assert order.status == status
    assert order.exchange_order_id == ""


def test_a_fill_executes_a_signal_canceled_while_its_order_was_in_flight(make_signal, make_order):
    signal = make_signal(status="CANCELED")
    order = make_order(signal)
    result = OrderResult(ResultStatus.SUCCESS, order.client_order_id, exchange_order_id="x-1")
    services.order_record_result(order_id=order.pk, result=result)
    assert Signal.objects.get(pk=signal.pk).status == "EXECUTED"


def test_the_task_is_bounded_and_acks_late():
    assert tasks.place_order.acks_late is True
    assert tasks.place_order.reject_on_worker_lost is True
    assert tasks.place_order.time_limit and tasks.place_order.soft_time_limit


def test_recording_an_answer_takes_the_callers_copy_of_an_unchanged_order(make_signal, make_order, monkeypatch):
    # The row is locked by one small read, not read and built whole again: the order placed is
    # the object recorded, its answer on it.
    order = make_order(make_signal())
    services.order_place(order_id=order.pk)  # SUCCESS, through order_record_result
    placed = Order.objects.get(pk=order.pk)
    placed.status = "SUBMITTING"
    Order.objects.filter(pk=order.pk).update(status="SUBMITTING")  # back in flight (updated_at kept)
    whole_reads = []
    original = services.Order.objects.select_for_update

    def counted(*args, **kwargs):
        whole_reads.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(services.Order.objects, "select_for_update", counted)
    result = OrderResult(status=ResultStatus.SUCCESS, client_order_id=placed.client_order_id, exchange_order_id="x-1")
    recorded = services.order_record_result(order_id=order.pk, result=result, current=placed)
    assert recorded is placed and whole_reads == []
    assert Order.objects.get(pk=order.pk).exchange_order_id == "x-1"


def test_recording_an_answer_reads_the_row_whole_when_it_changed_since_the_callers_copy(make_signal, make_order):
    # A reconciliation settled the order (SUCCESS) between the caller's copy and its late answer:
    # the answer meets the row as it is now, final, and is ignored; the stale copy would have
    # taken it back to FAILED.
    order = make_order(make_signal())
    stale = Order.objects.get(pk=order.pk)
    settled = OrderResult(status=ResultStatus.SUCCESS, client_order_id=order.client_order_id, exchange_order_id="x-2")
    services.order_record_result(order_id=order.pk, result=settled)
    late = OrderResult.failed(order.client_order_id, ErrorCode.REJECTED, "rejected")
    recorded = services.order_record_result(order_id=order.pk, result=late, current=stale)
    assert recorded is not stale and recorded.status == "SUCCESS"
    row = Order.objects.get(pk=order.pk)
    assert (row.status, row.exchange_order_id, row.error_code) == ("SUCCESS", "x-2", "")


def test_an_order_event_is_the_apis_output_and_builds_its_fields_once(make_signal, make_order, trader, monkeypatch):
    from orders.serializers import OrderOutput

    order = make_order(make_signal())
    services.order_place(order_id=order.pk)  # SUCCESS with a fill, through the dry run
    Order.objects.filter(pk=order.pk).update(reviewed_by=trader, review_note="checked")
    builds = []
    original = OrderOutput.get_fields
    monkeypatch.setattr(OrderOutput, "get_fields", lambda self: builds.append(1) or original(self))
    services._event_output.cache_clear()
    for _ in range(3):
        row = Order.objects.get(pk=order.pk)
        assert services.order_event_data(row) == OrderOutput(row).data
    assert len(builds) == 1 + 3  # the event's once, the comparisons' each time
    data = services.order_event_data(Order.objects.get(pk=order.pk))
    assert data["fills"] and data["reviewed_by"] == trader.username and data["status"] == "SUCCESS"
