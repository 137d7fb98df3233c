"""Seed 000's scenarios 1-3 with master and follower on ccxt accounts: ccxt's own binance class
against the paper exchange's Binance dialect on the live test server, PostgreSQL, Redis, a real
Celery worker and a real Celery beat (separate processes) running the sync.

The same scenarios as test_scenarios_services.py (whose worker/beat helpers this reuses), with
every read and order of the sync going through ccxt: positions from /api/v3/account, lot sizes
from /api/v3/exchangeInfo, orders to POST /api/v3/order.
"""

from decimal import Decimal

import pytest

from executor.connectors import ccxt_pool
from executor.connectors.base import OrderTicket
from executor.connectors.ccxt_connector import CcxtConnector
from executor.models import ExchangeAccount
from executor.paper.models import PaperBalance
from executor.paper.services import paper_binance_key_create
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.faults import paper_fault_set
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save
from following import venue as follow_venue
from following.models import FollowSettings, SyncRun, TradeError
from tests.following import test_scenarios_services as base
from tests.following.test_scenarios_services import URL, follower_orders, start_following, wait_cycles, wait_for

# The worker and beat processes, and the follower's API client (which opens the master), as there.
celery_processes = base.celery_processes
follower_api = base.follower_api

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class CcxtVenue:
    """The paper exchange with a master and a follower, each with a desk ccxt (binance) account."""

    def __init__(self, base_url: str, master, follower) -> None:
        paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
        self.base_url = base_url
        self.master_paper, self.master = self._account(master, "master-ccxt", Decimal("10000000"))
        self.follower_paper, self.follower = self._account(follower, "follower-ccxt", Decimal("1000000"))
        self.trades = 0

    def _account(self, owner, name: str, usdt: Decimal):
        paper, _ = paper_account_create(username=name, password="paper-password-1", balances={"USDT": usdt})
        _, key, secret = paper_binance_key_create(account=paper)
        account = ExchangeAccount(
            owner=owner, label=name, venue="paper", connector="ccxt", exchange_id="binance", base_url=self.base_url
        )
        return paper, exchange_account_save(account=account, secrets={"api_key": key, "api_secret": secret})

    def master_trades(self, side: str, qty: str) -> None:
        self.trades += 1
        connector = CcxtConnector(self.master.config())
        ticket = OrderTicket(f"master-{self.trades}", "BTC/USDT", side, "MARKET", Decimal(qty))
        assert connector.place_order(ticket).status == "SUCCESS"

    def follower_position(self) -> Decimal:
        row = PaperBalance.objects.filter(account=self.follower_paper, asset="BTC").first()
        return (row.free + row.locked).normalize() if row else Decimal("0")


@pytest.fixture
def running(celery_processes):
    """The worker and beat up and cycling (they start slowly on a busy machine): only then does a
    scenario's own deadline start."""
    try:
        wait_for(lambda: SyncRun.objects.exclude(outcome="running").exists(), timeout=180, what="worker and beat")
    except AssertionError as error:
        logs = {name: (celery_processes["tmp"] / name).read_text()[-3000:] for name in ("w.log", "beat-1.log")}
        raise AssertionError(f"{error}; worker and beat logs: {logs}") from None
    return celery_processes


@pytest.fixture
def venue(live_server, paper_instruments, master, follower):
    follow_venue.instruments_cache_clear()
    ccxt_pool.pool_clear()
    return CcxtVenue(f"{live_server.url}/paper/binance", master, follower)


def test_scenario_1_the_follower_mirrors_the_master_at_its_ratio_through_ccxt(running, venue, follower_api):
    start_following(follower_api, venue, "0.1")
    venue.master_trades("BUY", "1.0")
    wait_for(lambda: venue.follower_position() == Decimal("0.1"), what="follower at 0.1 BTC")
    wait_cycles(3)
    assert venue.follower_position() == Decimal("0.1")
    wait_for(lambda: follower_orders() == [("BUY", Decimal("0.1"), "SUCCESS")], what="one order, recorded")
    status = follower_api.get(f"{URL}/status").json()
    assert status["positions"][0]["expected_qty"] == "0.1" and status["positions"][0]["in_sync"]


def test_scenario_2_a_new_ratio_applies_to_the_next_master_change_through_ccxt(running, venue, follower_api):
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


def test_scenario_3_a_failure_pauses_the_follower_until_it_is_resolved_through_ccxt(running, venue, follower_api):
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
    wait_for(lambda: follower_orders()[-1] == ("BUY", Decimal("0.2"), "SUCCESS"), what="the order recorded")
