"""Seed 000's four scenarios end to end: the paper exchange on the live test server, PostgreSQL,
Redis, a real Celery worker and a real Celery beat (as separate processes) running the sync.

Nothing here calls the engine: the master trades at the venue, the follower uses the API, and
the test waits (with a deadline) for what beat and the worker do.
"""

import os
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from executor.connectors import get_connector
from executor.connectors.base import OrderTicket
from executor.models import ExchangeAccount
from executor.paper.models import PaperPosition
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.faults import paper_fault_set
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save
from following import services, sync
from following import venue as follow_venue
from following.models import FollowSettings, SyncRun, TradeError
from orders.models import Order
from tests.services.test_worker import database_url

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/follow-config"
SYNC_EVERY = "0.5"


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} not met within {timeout}s")


def _spawn(args: list[str], log: Path, **extra_env: str) -> subprocess.Popen:
    """`celery -A tradedesk <args>`, or with args starting "manage.py", that command."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "true",
        "CREDENTIALS_KEYS": settings.CREDENTIALS_KEYS[0],
        "CONN_MAX_AGE": "0",
        "FOLLOW_SYNC_EVERY": SYNC_EVERY,
        "RECONCILE_EVERY": "3600",
        "VAR_DIR": str(log.parent / "var"),
        **extra_env,
    }
    program = args if args[0] == "manage.py" else ["-m", "celery", "-A", "tradedesk", *args]
    return subprocess.Popen(  # noqa: S603
        [sys.executable, *program],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=open(log, "a"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def celery_processes(tmp_path):
    """A worker (as `make worker`) and beat (as `make beat`), each its own process."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    (tmp_path / "var").mkdir()
    worker = _spawn(["worker", "--loglevel", "INFO", "--concurrency", "2", "--queues", "celery"], tmp_path / "w.log")
    beats = [_spawn(["beat", "--loglevel", "INFO", "-s", str(tmp_path / "beat-1")], tmp_path / "beat-1.log")]
    yield {"worker": worker, "beats": beats, "tmp": tmp_path}
    for process in [*beats, worker]:
        _stop(process)


class Venue:
    """The paper exchange with a master and a follower, each with a desk API account."""

    def __init__(self, base_url: str, master, follower) -> None:
        paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
        self.base_url = base_url
        self.master_paper, self.master = self._account(master, "master-desk", Decimal("10000000"))
        self.follower_paper, self.follower = self._account(follower, "follower-desk", Decimal("1000000"))
        self.trades = 0

    def _account(self, owner, name: str, usdt: Decimal):
        paper, key = paper_account_create(username=name, password="paper-password-1", balances={"USDT": usdt})
        account = ExchangeAccount(owner=owner, label=name, venue="paper", connector="api", base_url=self.base_url)
        return paper, exchange_account_save(account=account, secrets={"api_key": key})

    def master_trades(self, side: str, qty: str) -> None:
        self.trades += 1
        connector = get_connector("api", self.master.config())
        ticket = OrderTicket(f"master-{self.trades}", "BTC/USDT", side, "MARKET", Decimal(qty))
        assert connector.place_order(ticket).status == "SUCCESS"

    def position(self, paper) -> Decimal:
        row = PaperPosition.objects.filter(account=paper, symbol="BTC-USDT").first()
        return row.qty.normalize() if row else Decimal("0")

    def follower_position(self) -> Decimal:
        return self.position(self.follower_paper)


@pytest.fixture
def venue(live_server, paper_instruments, master, follower):
    follow_venue.instruments_cache_clear()
    return Venue(f"{live_server.url}/paper", master, follower)


@pytest.fixture
def follower_api(follower, venue, master) -> APIClient:
    services.master_account_open(user=master, credential_id=venue.master.pk)
    client = APIClient()
    client.force_authenticate(follower)
    return client


def follower_orders() -> list[tuple[str, Decimal, str]]:
    rows = Order.objects.filter(follow_settings__isnull=False).order_by("id")
    return [(o.side, o.qty.normalize(), o.status) for o in rows]


def cycles_after(moment) -> int:
    return SyncRun.objects.filter(started_at__gt=moment).exclude(outcome="skipped").exclude(outcome="running").count()


def wait_cycles(count: int) -> None:
    from django.utils import timezone

    moment = timezone.now()
    wait_for(lambda: cycles_after(moment) >= count, what=f"{count} sync cycles")


def start_following(client: APIClient, venue: Venue, ratio: str) -> None:
    body = {"master_credential_id": venue.master.pk, "follower_credential_id": venue.follower.pk, "follow_ratio": ratio}
    response = client.post(f"{URL}/settings", body, format="json")
    assert response.status_code == 201, response.json()


def test_scenario_1_the_follower_mirrors_the_master_at_its_ratio(celery_processes, venue, follower_api):
    start_following(follower_api, venue, "0.1")
    venue.master_trades("BUY", "1.0")
    wait_for(lambda: venue.follower_position() == Decimal("0.1"), what="follower at 0.1 BTC")
    wait_cycles(3)
    assert venue.follower_position() == Decimal("0.1")
    wait_for(lambda: follower_orders() == [("BUY", Decimal("0.1"), "SUCCESS")], what="one order, recorded")
    status = follower_api.get(f"{URL}/status").json()
    assert status["positions"][0]["expected_qty"] == "0.1" and status["positions"][0]["in_sync"]


def test_scenario_2_a_new_ratio_applies_to_the_next_master_change(celery_processes, venue, follower_api):
    start_following(follower_api, venue, "0.1")
    venue.master_trades("BUY", "1.0")
    wait_for(lambda: venue.follower_position() == Decimal("0.1"), what="follower at 0.1 BTC")
    assert follower_api.put(f"{URL}/settings", {"follow_ratio": "0.2"}, format="json").status_code == 200
    venue.master_trades("BUY", "1.0")
    wait_for(lambda: venue.follower_position() == Decimal("0.4"), what="follower at 0.4 BTC")
    wait_cycles(3)
    assert venue.follower_position() == Decimal("0.4")
    assert [qty for _, qty, _ in follower_orders()] in ([Decimal("0.1"), Decimal("0.3")],
                                                         [Decimal("0.1"), Decimal("0.1"), Decimal("0.2")])  # fmt: skip


def test_scenario_3_a_failure_pauses_the_follower_until_it_is_resolved(celery_processes, venue, follower_api):
    start_following(follower_api, venue, "0.1")
    paper_fault_set(account=venue.follower_paper, kind="reject", value="INSUFFICIENT_BALANCE", once=True)
    venue.master_trades("BUY", "1.0")
    error = wait_for(lambda: TradeError.objects.filter(user__username="fred_follower").first(), what="a trade error")
    assert error.error_type == "INSUFFICIENT_BALANCE" and error.trade_log.status == "FAILED"
    assert not FollowSettings.objects.get().is_active
    venue.master_trades("BUY", "1.0")  # not followed while paused
    wait_cycles(3)
    assert venue.follower_position() == Decimal("0") and len(follower_orders()) == 1
    errors = follower_api.get(f"{URL}/errors").json()
    assert [e["error_type"] for e in errors] == ["INSUFFICIENT_BALANCE"]
    resolved = follower_api.post(f"{URL}/errors/{errors[0]['id']}/resolve").json()
    assert resolved["resumed"] and resolved["is_active"]
    wait_for(lambda: venue.follower_position() == Decimal("0.2"), what="follower caught up to 0.2 BTC")
    # The venue fills before the worker records its answer: wait for the desk's row too.
    wait_for(lambda: follower_orders()[-1] == ("BUY", Decimal("0.2"), "SUCCESS"), what="the order recorded")


def test_scenario_4_an_inactive_follower_is_not_followed_until_active_again(celery_processes, venue, follower_api):
    start_following(follower_api, venue, "0.1")
    assert follower_api.put(f"{URL}/settings", {"is_active": False}, format="json").status_code == 200
    venue.master_trades("BUY", "1.0")
    wait_cycles(3)
    assert venue.follower_position() == Decimal("0") and follower_orders() == []
    assert follower_api.put(f"{URL}/settings", {"is_active": True}, format="json").status_code == 200
    venue.master_trades("BUY", "1.0")
    wait_for(lambda: venue.follower_position() == Decimal("0.2"), what="follower at 0.2 BTC")


def test_two_beats_started_by_mistake_place_one_order_per_follower_and_change(
    celery_processes, venue, follower_api, make_account
):
    tmp = celery_processes["tmp"]
    celery_processes["beats"].append(
        _spawn(["beat", "--loglevel", "INFO", "-s", str(tmp / "beat-2")], tmp / "beat-2.log")
    )
    start_following(follower_api, venue, "0.1")
    for qty, expected in (("1.0", "0.1"), ("0.5", "0.15"), ("2.5", "0.4")):
        venue.master_trades("BUY", qty)
        wait_for(lambda e=expected: venue.follower_position() == Decimal(e), what=f"follower at {expected}")
    wait_cycles(4)
    assert [qty for _, qty, _ in follower_orders()] == [Decimal("0.1"), Decimal("0.05"), Decimal("0.25")]
    # Both beats sent cycles; the runs that went through never overlapped.
    runs = list(SyncRun.objects.exclude(outcome__in=["skipped", "running"]).order_by("started_at"))
    assert all(a.finished_at <= b.started_at for a, b in zip(runs, runs[1:], strict=False))


def test_two_cycles_at_once_place_one_order(venue, follower_api, settings):
    """Two cycles started together in this process (no worker): the lock lets one through, and
    the other finds the lock taken; even without the lock the in-flight rule holds."""
    settings.FOLLOW_SYNC_THREADS = 4
    start_following(follower_api, venue, "0.1")
    venue.master_trades("BUY", "1.0")
    barrier = threading.Barrier(2)
    runs = []

    def cycle() -> None:
        from django.db import connection

        barrier.wait()
        try:
            runs.append(sync.follow_sync_cycle())
        finally:
            connection.close()

    threads = [threading.Thread(target=cycle) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(run.outcome for run in runs) in (["ok", "skipped"], ["ok", "ok"])
    assert follower_orders() == [("BUY", Decimal("0.1"), "SUCCESS")]
    assert venue.follower_position() == Decimal("0.1")


def test_two_cycles_without_the_lock_still_place_one_order(venue, follower_api, settings, monkeypatch):
    settings.FOLLOW_SYNC_THREADS = 4
    start_following(follower_api, venue, "0.1")
    venue.master_trades("BUY", "1.0")
    # Both cycles believe they hold the cycle lock (a broken cache, two beats): the per-follower
    # lock and the database's one-order-in-flight rule are what is left.
    real = sync.cache

    class NoCycleLock:
        def add(self, key, *args, **kwargs):
            return key == sync.CYCLE_LOCK or real.add(key, *args, **kwargs)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(sync, "cache", NoCycleLock())
    barrier = threading.Barrier(2)

    def cycle() -> None:
        from django.db import connection

        barrier.wait()
        try:
            sync.follow_sync_cycle()
        finally:
            connection.close()

    threads = [threading.Thread(target=cycle) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert follower_orders() == [("BUY", Decimal("0.1"), "SUCCESS")]


def test_a_slow_or_failing_follower_does_not_hold_up_the_others(venue, follower_api, settings, monkeypatch):
    """Eight followers in parallel threads: one venue account slow, one out of money."""
    from django.contrib.auth.models import User

    settings.FOLLOW_SYNC_THREADS = 4
    # Slow, not hung: the cycle waits for it (a hung one is tests/following/test_isolation.py).
    settings.FOLLOW_FOLLOWER_DEADLINE = 60
    rows = []
    for index in range(8):
        user = User.objects.create_user(f"crowd{index}")
        paper, account = venue._account(user, f"crowd-{index}", Decimal("100000"))
        rows.append((paper, account, services.follow_settings_create(
            user=user, master_credential_id=venue.master.pk, follower_credential_id=account.pk,
            follow_ratio=Decimal("0.1"),
        )))  # fmt: skip
    paper_fault_set(account=rows[0][0], kind="slow", value="1500")
    paper_fault_set(account=rows[1][0], kind="reject", value="INSUFFICIENT_BALANCE")
    venue.master_trades("BUY", "1.0")
    started = time.monotonic()
    finished = {}
    original = sync.sync_follower

    def timed(**kwargs):
        outcome = original(**kwargs)
        finished[kwargs["row"].pk] = time.monotonic() - started
        return outcome

    monkeypatch.setattr(sync, "sync_follower", timed)
    run = sync.follow_sync_cycle()
    healthy = [row.pk for _, _, row in rows[2:]]
    assert all(venue.position(paper) == Decimal("0.1") for paper, _, _ in rows[2:])
    assert venue.position(rows[1][0]) == Decimal("0") and not FollowSettings.objects.get(pk=rows[1][2].pk).is_active
    assert (run.orders_placed, run.errors) == (8, 1)
    # Every healthy follower was done before the slow one's venue answered.
    assert max(finished[pk] for pk in healthy) < finished[rows[0][2].pk]
