"""Orders left SUBMITTING or UNKNOWN are settled by asking the venue, never by placing again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from executor.connectors import dry_run
from executor.connectors.base import ErrorCode, OrderTicket
from orders import services, tasks
from orders.models import Order

pytestmark = pytest.mark.django_db


def started(order: Order, seconds_ago: int, status: str = "UNKNOWN") -> Order:
    when = timezone.now() - timedelta(seconds=seconds_ago)
    Order.objects.filter(pk=order.pk).update(status=status, placement_started_at=when, created_at=when)
    order.refresh_from_db()
    return order


def test_an_unknown_order_the_venue_has_becomes_success(make_signal, make_order):
    order = started(make_order(make_signal()), 5)
    dry_run.DryRunConnector().place_order(
        OrderTicket(order.client_order_id, order.symbol, order.side, "LIMIT", order.qty, order.price)
    )
    services.order_reconcile(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "SUCCESS"
    assert order.signal.status == "EXECUTED"


def test_an_unknown_order_the_venue_lacks_waits_out_the_grace_period(make_signal, make_order, settings):
    settings.RECONCILE_GRACE_SECONDS = 60
    order = started(make_order(make_signal()), 10)
    services.order_reconcile(order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == "UNKNOWN"
    order = started(order, 61)
    services.order_reconcile(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "FAILED"
    assert order.error_code == ErrorCode.NOT_FOUND_AT_VENUE
    assert "not re-submitted" in order.error_message


def test_a_submitting_order_whose_placement_never_started_is_queued_again(make_signal, make_order, queued_tasks):
    order = make_order(make_signal())
    services.order_reconcile(order_id=order.pk)
    assert queued_tasks == [order.pk]


def test_the_periodic_task_picks_only_stuck_and_unknown_orders(make_signal, make_order, queued_tasks, settings):
    settings.RECONCILE_GRACE_SECONDS = 1
    fresh = make_order(make_signal())
    unknown = started(make_order(make_signal()), 5)
    stuck = started(make_order(make_signal()), 600, status="SUBMITTING")
    lost_task = make_order(make_signal())
    Order.objects.filter(pk=lost_task.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    done = make_order(make_signal(), status="SUCCESS")
    Order.objects.filter(pk=done.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    tasks.reconcile_orders()
    assert Order.objects.get(pk=fresh.pk).status == "SUBMITTING"
    assert Order.objects.get(pk=unknown.pk).status == "FAILED"
    assert Order.objects.get(pk=stuck.pk).status == "FAILED"
    assert Order.objects.get(pk=done.pk).status == "SUCCESS"
    assert queued_tasks == [lost_task.pk]


def test_beat_runs_the_reconciliation(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE["reconcile-orders"]
    assert schedule["task"] == "orders.tasks.reconcile_orders"
