"""Isolation (issue 14 item 8): a follower whose venue hangs never holds the others. The cycle
waits FOLLOW_FOLLOWER_DEADLINE for one follower, then goes on without it; the late follower
finishes on its own and the master's change is applied to it once."""

import threading
import time
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from executor.connectors.dry_run import DryRunConnector
from following import sync
from following.models import SyncRun
from orders.models import Order
from tests.following.conftest import positions

# Threads evaluate followers: each has its own database connection, so PostgreSQL (not SQLite).
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def wait_until(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def hung_venue(monkeypatch):
    """The dry-run venue never answers an order of the account labelled "hung" (for up to 15 s,
    until the test releases it)."""
    entered, release = threading.Event(), threading.Event()
    original = DryRunConnector.place_order

    def place(self, ticket):
        if self.account.label == "hung":
            entered.set()
            release.wait(15)
        return original(self, ticket)

    monkeypatch.setattr(DryRunConnector, "place_order", place)
    yield entered, release
    release.set()


def test_ten_followers_get_their_orders_while_one_venue_hangs_and_the_hung_one_is_ordered_once(
    settings, hung_venue, master_account, make_account, follow, trade
):
    entered, release = hung_venue
    settings.FOLLOW_SYNC_THREADS = 4
    settings.FOLLOW_FOLLOWER_DEADLINE = 0.5
    users = [User.objects.create_user(f"follower{n}") for n in range(11)]
    hung_account = make_account(users[0], label="hung")
    hung = follow(users[0], hung_account)
    others = [follow(user, make_account(user)) for user in users[1:]]
    trade(master_account, "BUY", "1.0")

    run = sync.follow_sync_cycle()
    # The cycle is over while the hung venue has still not answered.
    assert entered.is_set() and not release.is_set()
    assert run.outcome == SyncRun.Outcome.PARTIAL
    assert "1 follower(s) still being evaluated" in run.detail
    statuses = dict(Order.objects.values_list("follow_settings_id", "status"))
    assert {statuses[row.pk] for row in others} == {"SUCCESS"}
    assert statuses[hung.pk] == "SUBMITTING"
    assert run.orders_placed == 10

    # A cycle meanwhile leaves the late follower to its own thread: no second order.
    again = sync.follow_sync_cycle()
    assert again.orders_placed == 0
    assert Order.objects.filter(follow_settings=hung).count() == 1

    release.set()
    wait_until(lambda: Order.objects.get(follow_settings=hung).status == "SUCCESS")
    wait_until(lambda: cache.get(f"following:follower:{hung.pk}") is None)
    sync.follow_sync_cycle()
    assert Order.objects.filter(follow_settings=hung).count() == 1
    assert positions(hung_account) == {"BTC/USDT": Decimal("0.1")}


def test_without_a_hang_the_cycle_waits_for_every_follower(settings, master_account, make_account, follow, trade):
    settings.FOLLOW_SYNC_THREADS = 3
    settings.FOLLOW_FOLLOWER_DEADLINE = 30
    users = [User.objects.create_user(f"follower{n}") for n in range(5)]
    for user in users:
        follow(user, make_account(user))
    trade(master_account, "BUY", "1.0")
    run = sync.follow_sync_cycle()
    assert (run.outcome, run.orders_placed, run.detail) == ("ok", 5, "")
