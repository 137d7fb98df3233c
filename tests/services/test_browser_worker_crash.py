"""Killing the browser worker mid-order: exactly one venue order per desk order, none stuck."""

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
from executor.paper.services.faults import paper_fault_set
from orders import services as order_services
from orders.models import Order
from signals import services as signal_services
from tests.executor.test_browser_executor import chromium_or_fail, venue  # noqa: F401 (fixture)
from tests.services.test_worker import database_url

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_dirs(settings, tmp_path):
    chromium_or_fail()
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (BUILTIN_DIR / "paper.yaml").read_text().replace("result: 10 ", "result: 30 ")
    (profiles / "paper.yaml").write_text(text)
    settings.EXCHANGE_PROFILE_DIRS = [str(profiles)]
    return tmp_path


def start_worker(tmp_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "true",
        "CREDENTIALS_KEYS": settings.CREDENTIALS_KEYS[0],
        "CELERY_VISIBILITY_TIMEOUT": "2",
        "VAR_DIR": str(tmp_path / "var"),
        "EXCHANGE_PROFILE_DIRS": settings.EXCHANGE_PROFILE_DIRS[0],
        "CONN_MAX_AGE": "0",
    }
    command = [sys.executable, "-m", "celery", "-A", "tradedesk", "worker", "--pool", "solo", "-Q", "browser"]
    return subprocess.Popen(  # noqa: S603
        command,
        env=env,
        cwd=settings.BASE_DIR,
        stdout=open(tmp_path / "worker.log", "a"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the kill takes Chromium with it
    )


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_until(predicate, timeout: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not met within {timeout}s")


def test_killing_the_browser_worker_mid_order_leaves_one_venue_order_and_none_stuck(
    venue,  # noqa: F811
    browser_dirs,
    settings,
):
    paper, account = venue
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    settings.EXECUTOR = "exchange"
    ExchangeAccount.objects.filter(pk=account.pk).update(is_desk_default=True)
    # The venue accepts the order, then its answer hangs: the worker is killed while waiting.
    paper_fault_set(account=paper, kind="lost_reply", value="20", once=True)
    signal_row, _ = signal_services.signal_create(
        api_key=None, symbol="BTC/USDT", side="BUY", suggest_qty=Decimal("0.01"), strategy_name="crash"
    )
    worker = start_worker(browser_dirs)
    try:
        order = order_services.order_create(
            user=account.owner, signal_id=signal_row.pk, qty=Decimal("0.01"), order_type="LIMIT", price=Decimal("60000")
        )
        wait_until(
            lambda: PaperOrder.objects.filter(client_order_id=order.client_order_id).exists(), what="venue order"
        )
        kill(worker)
        order.refresh_from_db()
        assert order.status == "SUBMITTING" and order.placement_started_at is not None

        time.sleep(3)  # past the broker's visibility timeout, so the task is handed out again
        worker = start_worker(browser_dirs)
        wait_until(lambda: Order.objects.get(pk=order.pk).status == "SUCCESS", what="order settled")
    finally:
        kill(worker)
    order.refresh_from_db()
    venue_orders = PaperOrder.objects.filter(client_order_id=order.client_order_id)
    assert venue_orders.count() == 1
    assert order.exchange_order_id == venue_orders.get().order_id
    reasons = [r.history_change_reason for r in Order.history.filter(id=order.pk).order_by("history_date")]
    assert reasons.count("placement started") == 1
    assert not Order.objects.filter(status__in=["SUBMITTING", "UNKNOWN"]).exists()
