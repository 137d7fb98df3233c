# ruff: noqa: F811, S603  (fixtures imported from the browser tests; subprocesses of our own python)
"""Many browser accounts in one worker, one owner per account, no browser outside browser workers."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from executor.browser.connector import BrowserConnector
from executor.browser.host import host
from executor.browser.worker import refuse_browsers_outside_browser_workers
from executor.connectors.base import ErrorCode, ResultStatus
from executor.models import ExchangeAccount
from executor.paper.models import PaperOrder
from executor.paper.services.accounts import paper_account_create
from executor.services import exchange_account_save
from tests.executor.test_browser_executor import browser_dirs, ticket, venue  # noqa: F401, F811 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

HOLD_LOCK = """
import os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tradedesk.settings")
django.setup()
from executor.browser.lock import AccountLock
lock = AccountLock(sys.argv[1], sys.argv[2])
lock.acquire()
print("locked", flush=True)
sys.stdin.read()
"""


def worker_consuming(queues: dict) -> SimpleNamespace:
    """What the worker_init signal hands over: a Celery WorkController and its queues."""
    return SimpleNamespace(app=SimpleNamespace(amqp=SimpleNamespace(queues=SimpleNamespace(consume_from=queues))))


def browser_account(owner, live_server, label: str, venue_name: str, username: str) -> tuple:
    paper, _ = paper_account_create(
        username=username, password="paper-password-1", balances={"USDT": Decimal("1000000"), "BTC": Decimal("5")}
    )
    account = ExchangeAccount(owner=owner, label=label, venue=venue_name, connector="browser")
    account.base_url = f"{live_server.url}/paper"
    exchange_account_save(
        account=account,
        secrets={"web_username": username, "web_password": "paper-password-1", "totp_secret": paper.totp_secret},
    )
    return paper, account


def test_three_accounts_on_two_venues_place_in_turn_in_one_browser_worker(venue, live_server, settings, trader):
    first_paper, first = venue
    profiles = Path(settings.EXCHANGE_PROFILE_DIRS[0])
    # A second venue: a profile of its own (another layout of the page), its own accounts.
    text = (profiles / "paper.yaml").read_text()
    (profiles / "paper-v2.yaml").write_text(text.replace("name: paper", "name: paper-v2"))
    second_paper, second = browser_account(trader, live_server, "paper-two", "paper", "desk-bot-2")
    third_paper, third = browser_account(trader, live_server, "v2-one", "paper-v2", "desk-bot-3")
    connectors = [(first_paper, BrowserConnector(first.config())), (second_paper, BrowserConnector(second.config()))]
    connectors.append((third_paper, BrowserConnector(third.config())))
    for round_ in range(2):
        for index, (paper, connector) in enumerate(connectors):
            client_order_id = f"td-multi-{round_}-{index}"
            result = connector.place_order(ticket(client_order_id, side="SELL" if index == 1 else "BUY"))
            assert result.status == ResultStatus.SUCCESS, (client_order_id, result.error_code, result.error_message)
            placed = PaperOrder.objects.get(client_order_id=client_order_id)
            assert placed.account_id == paper.pk and result.exchange_order_id == placed.order_id
    assert len(host.sessions()) == 3
    browsers = {id(session._browser) for session in host.sessions().values()}
    assert len(browsers) == 1, "one Chromium for every account of the worker"


def test_a_second_process_refuses_an_account_already_open(venue, browser_dirs):
    paper, account = venue
    connector = BrowserConnector(account.config())
    assert connector.place_order(ticket("td-own-1")).status == ResultStatus.SUCCESS
    session = host.sessions()[connector.key]
    other = subprocess.run(
        [sys.executable, "-c", HOLD_LOCK, session.name, account.config().key],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "BROWSER_STATE_DIR": str(browser_dirs / "state"), "DEBUG": "true"},
    )
    assert other.returncode != 0 and "AccountInUse" in other.stderr
    assert f"pid {os.getpid()}" in other.stderr  # it names the holder


def test_an_account_open_in_another_process_is_refused_here_until_that_process_dies(venue, browser_dirs):
    paper, account = venue
    connector = BrowserConnector(account.config())
    name = f"paper-{account.pk}"
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, name, str(account.pk)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "BROWSER_STATE_DIR": str(browser_dirs / "state"), "DEBUG": "true"},
    )
    try:
        assert other.stdout.readline().strip() == "locked"
        result = connector.place_order(ticket("td-taken"))
        assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.ACCOUNT_IN_USE)
        assert f"pid {other.pid}" in result.error_message
        assert not PaperOrder.objects.filter(client_order_id="td-taken").exists()
    finally:
        other.kill()  # as kill -9: the kernel releases its lock
        other.wait(timeout=30)
    result = connector.place_order(ticket("td-free"))
    assert result.status == ResultStatus.SUCCESS, (result.error_code, result.error_message)


def test_a_regular_celery_worker_never_opens_a_browser(venue, monkeypatch):
    paper, account = venue
    monkeypatch.setattr(host, "_refused", "")
    refuse_browsers_outside_browser_workers(sender=worker_consuming({"celery": 1}))
    assert host.refused
    result = BrowserConnector(account.config()).place_order(ticket("td-wrong-worker"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.CONNECTOR_ERROR)
    assert "no browser queue" in result.error_message
    assert host.sessions() == {} and not host._browsers.running
    with pytest.raises(Exception, match="no browser queue"):
        BrowserConnector(account.config()).get_order("td-wrong-worker")
    assert not PaperOrder.objects.filter(client_order_id="td-wrong-worker").exists()
    assert not ExchangeAccount.objects.filter(pk=account.pk, venue_session__isnull=False).exists()


def test_a_browser_worker_of_any_browser_queue_may_open_browsers(monkeypatch):
    monkeypatch.setattr(host, "_refused", "")
    for queues in ({"browser": 1}, {"browser-eu": 1, "celery": 1}):
        refuse_browsers_outside_browser_workers(sender=worker_consuming(queues))
        assert host.refused == ""
