"""Races on the real PostgreSQL: two workers recording the same venue trades record each once."""

# ruff: noqa: F811 (the scripted venue's fixtures are imported, then named as test arguments)

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from orders import lifecycle, services, tasks
from orders.models import Fill, Order
from tests.orders.lifecycle_venue import accepted, venue, venue_tasks  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def together(count: int, work) -> list[object]:
    def one(index: int) -> object:
        try:
            return work(index)
        except Exception as exc:  # collected, asserted below
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_it_runs_on_postgresql():
    assert connection.vendor == "postgresql"


def test_two_refresh_workers_with_the_same_venue_answer_never_record_a_fill_twice(accepted, venue):
    order = accepted()
    venue.fill(order.client_order_id, ("T1", "0.4", "65000", "2.6"), ("T2", "0.6", "64900", "3.894"))
    venue.set_state(order.client_order_id, "FILLED")
    # Both workers have the venue's answer in hand before either records it.
    both_asked = threading.Barrier(2)
    ask = venue.get_order

    def get_order(client_order_id, **kwargs):
        answer = ask(client_order_id, **kwargs)
        both_asked.wait(timeout=30)
        return answer

    venue.get_order = get_order
    results = together(2, lambda _: lifecycle.order_refresh(order_id=order.pk))
    assert [type(r) for r in results] == [Order, Order], results
    assert sorted(Fill.objects.filter(order=order).values_list("trade_id", flat=True)) == ["T1", "T2"]
    assert Fill.history.filter(history_type="+").count() == 2
    order.refresh_from_db()
    assert (order.venue_state, order.filled_qty) == ("FILLED", 1)


def test_a_cancel_answer_and_a_refresh_racing_record_one_end_and_each_fill_once(accepted, venue, trader):
    order = accepted()
    services.order_cancel(order_id=order.pk, user=trader)
    venue.fill(order.client_order_id, ("T1", "1", "65000", "6.5"))
    venue.set_state(order.client_order_id, "FILLED")  # filled before the cancel reached it
    both_asked = threading.Barrier(2)
    ask, cancel = venue.get_order, venue.cancel_order

    def get_order(client_order_id, **kwargs):
        answer = ask(client_order_id, **kwargs)
        both_asked.wait(timeout=30)
        return answer

    def cancel_order(client_order_id, **kwargs):
        venue.get_order = ask  # the cancel's own lookup must not wait for the barrier again
        return cancel(client_order_id, **kwargs)

    venue.get_order, venue.cancel_order = get_order, cancel_order
    work = [lambda: lifecycle.order_refresh(order_id=order.pk), lambda: tasks.cancel_at_venue(order.pk)]
    results = together(2, lambda i: work[i]())
    assert not [r for r in results if isinstance(r, Exception)], results
    order.refresh_from_db()
    assert (order.venue_state, order.stage) == ("FILLED", "FILLED")
    assert Fill.objects.filter(order=order).count() == 1
