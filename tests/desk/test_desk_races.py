"""The order form under races on the real PostgreSQL and the Redis cache (shared by every web
process): the same form sent many times at once, and many tabs confirming one signal."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connections
from django.test import Client

from orders.models import Order
from signals.models import Signal

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def confirm_together(user, signal: Signal, nonces: list[str]) -> list[tuple[int, str]]:
    """POST the confirm form once per nonce, all released at the same moment."""
    barrier = threading.Barrier(len(nonces))

    def one(nonce: str) -> tuple[int, str]:
        client = Client()
        client.force_login(user)
        try:
            barrier.wait(timeout=30)
            body = {"order_type": "MARKET", "qty": "0.5", "nonce": nonce}
            response = client.post(f"/signals/{signal.pk}/order/confirm/", body, HTTP_HX_REQUEST="true")
            return response.status_code, response.content.decode()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(nonces)) as pool:
        return list(pool.map(one, nonces))


@pytest.fixture(autouse=True)
def shared_cache(settings):
    assert isinstance(caches["default"], RedisCache)  # shared by every thread and process, not locmem
    cache.clear()


def test_the_same_form_sent_eight_times_at_once_makes_one_order(trader, make_signal, queued_tasks):
    signal = make_signal()
    answers = confirm_together(trader, signal, ["one-form"] * 8)
    assert [status for status, _ in answers] == [200] * 8
    assert sum("already sent" in text for _, text in answers) == 7
    assert Order.objects.filter(signal=signal).count() == 1


def test_eight_tabs_confirming_one_signal_make_one_order(trader, make_signal, queued_tasks):
    signal = make_signal()
    answers = confirm_together(trader, signal, [f"tab-{i}" for i in range(8)])
    assert sorted(status for status, _ in answers) == [200] + [409] * 7
    assert all("already has order" in text for status, text in answers if status == 409)
    assert Order.objects.filter(signal=signal).count() == 1
