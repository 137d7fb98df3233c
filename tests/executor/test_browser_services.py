# ruff: noqa: S603, SIM115  (our own Python as subprocesses, their logs kept open)
"""Browser workers as real processes on PostgreSQL and Redis: each owns its accounts, orders are
routed to the owner, and killing one mid-order never doubles an order or leaves one stuck."""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.conf import settings

from executor.browser.profile import BUILTIN_DIR
from executor.models import ExchangeAccount
from executor.paper.models import PaperOrder
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.faults import paper_fault_set
from executor.paper.services.prices import paper_price_set
from executor.selectors import task_queue_for
from executor.services import exchange_account_save
from orders import services as order_services
from orders.models import Order
from orders.tasks import reconcile_order
from signals import services as signal_services
from tests.executor.test_browser_executor import chromium_or_fail
from tests.services.test_worker import database_url

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def profiles(settings, tmp_path, paper_instruments):
    chromium_or_fail()
    folder = tmp_path / "profiles"
    folder.mkdir()
    # A long result wait: a worker killed while waiting for the answer is killed mid-order.
    (folder / "pro.yaml").write_text((BUILTIN_DIR / "pro.yaml").read_text().replace("result: 10", "result: 30"))
    (folder / "paper.yaml").write_text((BUILTIN_DIR / "paper.yaml").read_text())
    settings.EXCHANGE_PROFILE_DIRS = [str(folder)]
    settings.EXECUTOR = "exchange"
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    return folder


def browser_account(owner, live_server, label: str, venue: str, queue: str = "") -> tuple:
    paper, _ = paper_account_create(
        username=label, password="paper-password-1", balances={"USDT": Decimal("1000000"), "BTC": Decimal("5")}
    )
    account = ExchangeAccount(owner=owner, label=label, venue=venue, connector="browser", browser_queue=queue)
    account.base_url = f"{live_server.url}/paper" + ("/pro" if venue == "pro" else "")
    secrets = {"web_username": label, "web_password": "paper-password-1", "totp_secret": paper.totp_secret}
    exchange_account_save(account=account, secrets=secrets)
    return paper, account


def start_worker(var: Path, queue: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "true",
        "CREDENTIALS_KEYS": settings.CREDENTIALS_KEYS[0],
        "CELERY_VISIBILITY_TIMEOUT": "2",
        "VAR_DIR": str(var),
        "EXCHANGE_PROFILE_DIRS": settings.EXCHANGE_PROFILE_DIRS[0],
        "CONN_MAX_AGE": "0",
        "RECONCILE_GRACE_SECONDS": "4",
    }
    var.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "celery", "-A", "tradedesk", "worker", "--pool", "solo", "-Q", queue]
    return subprocess.Popen(
        [*command, "-n", f"{queue}@%h"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=open(var / "worker.log", "a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the kill takes Chromium with it
    )


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_until(predicate, timeout: float = 90.0, what: str = "condition", every=None):
    """Wait for `predicate`; `every` (e.g. asking for a reconciliation) runs every 4 seconds."""
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    while time.monotonic() < deadline:
        if predicate():
            return
        if every is not None and time.monotonic() - last > 4:
            every()
            last = time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"{what} not met within {timeout}s")


def desk_order(account: ExchangeAccount, qty: Decimal) -> Order:
    ExchangeAccount.objects.filter(is_desk_default=True).update(is_desk_default=False)
    ExchangeAccount.objects.filter(pk=account.pk).update(is_desk_default=True)
    signal_row, _ = signal_services.signal_create(
        api_key=None, symbol="BTC/USDT", side="BUY", suggest_qty=qty, strategy_name="workers"
    )
    return order_services.order_create(
        user=account.owner, signal_id=signal_row.pk, qty=qty, order_type="LIMIT", price=Decimal("60000")
    )


def settled(order_id: int) -> bool:
    order = Order.objects.get(pk=order_id)
    return order.status in ("SUCCESS", "FAILED") or (order.status == "UNKNOWN" and order.needs_review)


def test_two_browser_workers_each_own_their_accounts_and_orders_go_to_the_owner(
    profiles, live_server, trader, tmp_path
):
    paper_a, account_a = browser_account(trader, live_server, "acct-a", "paper", "browser-a")
    paper_b, account_b = browser_account(trader, live_server, "acct-b", "pro", "browser-b")
    workers = {"a": start_worker(tmp_path / "var-a", "browser-a"), "b": start_worker(tmp_path / "var-b", "browser-b")}
    try:
        orders = [desk_order(account_a, Decimal("0.01")), desk_order(account_b, Decimal("0.02"))]
        orders.append(desk_order(account_a, Decimal("0.03")))
        for order in orders:
            wait_until(lambda order=order: Order.objects.get(pk=order.pk).status == "SUCCESS", what=f"order {order.pk}")
    finally:
        for worker in workers.values():
            kill(worker)
    assert (
        PaperOrder.objects.filter(account=paper_a).count() == 2
        and PaperOrder.objects.filter(account=paper_b).count() == 1
    )
    locks_a = {path.name for path in (tmp_path / "var-a" / "browser-state" / "locks").iterdir()}
    locks_b = {path.name for path in (tmp_path / "var-b" / "browser-state" / "locks").iterdir()}
    assert locks_a == {f"paper-{account_a.pk}.lock"} and locks_b == {f"pro-{account_b.pk}.lock"}


def test_killing_a_browser_worker_mid_order_ten_times_never_doubles_an_order_or_leaves_one_stuck(
    profiles, live_server, trader, tmp_path
):
    paper, account = browser_account(trader, live_server, "kill-pro", "pro")
    queue = task_queue_for(account)
    var = tmp_path / "var"
    snapshots = var / "browser-state" / "snapshots" / f"pro-{account.pk}"
    worker = start_worker(var, queue)
    orders = []
    try:
        for round_ in range(10):
            qty = Decimal("0.01") + round_ * Decimal("0.0001")  # tells the venue's orders apart
            moment = ("started", "snapshot", "stored")[round_ % 3]
            if moment == "stored":  # the venue takes the order, then its answer hangs
                paper_fault_set(account=paper, kind="lost_reply", value="20", once=True)
            order = desk_order(account, qty)
            orders.append(order)
            if moment == "started":
                condition = lambda pk=order.pk: Order.objects.get(pk=pk).placement_started_at is not None  # noqa: E731
            elif moment == "snapshot":
                condition = lambda: snapshots.is_dir() and any(snapshots.iterdir())  # noqa: E731
            else:
                condition = lambda qty=qty: PaperOrder.objects.filter(account=paper, qty=qty).exists()  # noqa: E731
            wait_until(condition, what=f"round {round_}: {moment}")
            kill(worker)
            time.sleep(3)  # past the broker's visibility timeout, so the task is handed out again
            worker = start_worker(var, queue)
            wait_until(
                lambda pk=order.pk: settled(pk),
                what=f"round {round_}: order settled",
                every=lambda pk=order.pk: reconcile_order.apply_async((pk,), queue=queue),
            )
    finally:
        kill(worker)
    for round_, order in enumerate(orders):
        order.refresh_from_db()
        qty = Decimal("0.01") + round_ * Decimal("0.0001")
        at_venue = list(PaperOrder.objects.filter(account=paper, qty=qty))
        assert len(at_venue) <= 1, (round_, at_venue)
        if order.status == "SUCCESS":
            assert [order.exchange_order_id] == [str(row.pk) for row in at_venue], round_
        else:
            # Not placed, or a person decides (never a guess): the review list holds it.
            assert order.status == "UNKNOWN" and order.needs_review or order.status == "FAILED", (round_, order.status)
    assert not Order.objects.filter(status__in=["SUBMITTING"]).exists()
    assert not Order.objects.filter(status="UNKNOWN", needs_review=False).exists()
