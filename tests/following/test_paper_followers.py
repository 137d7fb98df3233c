"""Followers on the paper exchange (live test server): through its API connector, the default,
and through a browser account driven by a real Chromium. Cycles are run directly here; the
beat-driven runs with a real worker are in test_scenarios_services.py."""

from decimal import Decimal

import pytest

from executor.models import ExchangeAccount
from executor.paper.models import PaperOrder
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.faults import paper_fault_set
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save
from following import services, sync
from following.models import FollowSettings, TradeError
from orders import services as order_services
from orders.models import Order
from tests.executor.test_browser_executor import browser_dirs  # noqa: F401 (fixture)
from tests.following.conftest import positions

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def paper(live_server, paper_instruments, settings):
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    settings.PAPER_API_TIMEOUT = 5.0
    base_url = f"{live_server.url}/paper"

    def account(owner, name: str, usdt: str, connector: str = "api"):
        venue_account, key = paper_account_create(
            username=name, password="paper-password-1", balances={"USDT": Decimal(usdt)}
        )
        secrets = {"api_key": key}
        if connector == "browser":
            secrets |= {
                "web_username": name,
                "web_password": "paper-password-1",
                "totp_secret": venue_account.totp_secret,
            }
        desk = ExchangeAccount(owner=owner, label=name, venue="paper", connector=connector, base_url=base_url)
        return venue_account, exchange_account_save(account=desk, secrets=secrets)

    return account


def test_an_api_follower_mirrors_the_master_with_the_venues_lot_size(paper, master, follower, trade):
    _, master_account = paper(master, "master", "1000000")
    venue_follower, follower_account = paper(follower, "follower", "100000")
    services.master_account_open(user=master, credential_id=master_account.pk)
    row = services.follow_settings_create(
        user=follower, master_credential_id=master_account.pk, follower_credential_id=follower_account.pk,
        follow_ratio=Decimal("0.12345"),
    )  # fmt: skip
    trade(master_account, "BUY", "1.0")
    sync.follow_sync_cycle()
    # 1.0 x 0.12345 = 0.12345, down to the paper lot of 0.0001
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1234")}
    order = Order.objects.get(follow_settings=row)
    venue_order = PaperOrder.objects.get(account=venue_follower, client_order_id=order.client_order_id)
    assert (order.status, order.exchange_order_id) == ("SUCCESS", venue_order.order_id)

    paper_fault_set(account=venue_follower, kind="reject", value="INSUFFICIENT_BALANCE", once=True)
    trade(master_account, "BUY", "1.0")
    sync.follow_sync_cycle()
    row.refresh_from_db()
    error = TradeError.objects.get()
    assert not row.is_active and error.error_type == "INSUFFICIENT_BALANCE"
    assert error.trade_log.status == "FAILED" and "INSUFFICIENT_BALANCE" in error.error_message
    services.trade_error_resolve(user=follower, error_id=error.pk)
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.2469")}


def test_a_browser_follower_orders_through_chromium_and_waits_for_its_order(
    paper,
    master,
    follower,
    trade,
    browser_dirs,  # noqa: F811
):
    from executor.browser.host import host

    _, master_account = paper(master, "master", "1000000")
    venue_follower, follower_account = paper(follower, "browser-follower", "100000", connector="browser")
    services.master_account_open(user=master, credential_id=master_account.pk)
    row = services.follow_settings_create(
        user=follower, master_credential_id=master_account.pk, follower_credential_id=follower_account.pk,
        follow_ratio=Decimal("0.1"),
    )  # fmt: skip
    trade(master_account, "BUY", "1.0")
    sync.follow_sync_cycle()
    # Browser orders go to the browser worker's queue: the order waits there, in flight.
    order = Order.objects.get(follow_settings=row)
    assert (order.status, order.venue, order.placement_started_at) == ("SUBMITTING", "browser", None)
    sync.follow_sync_cycle()
    assert Order.objects.filter(follow_settings=row).count() == 1
    assert FollowSettings.objects.get(pk=row.pk).last_sync_outcome == "waiting"
    try:
        order_services.order_place(order_id=order.pk)  # what the browser worker does with the task
    finally:
        host.shutdown()
    order.refresh_from_db()
    assert order.status == "SUCCESS", order.error_message
    assert PaperOrder.objects.get(account=venue_follower, client_order_id=order.client_order_id).status == "FILLED"
    run = sync.follow_sync_cycle()
    assert run.orders_placed == 0 and positions(follower_account) == {"BTC/USDT": Decimal("0.1")}
    assert FollowSettings.objects.get(pk=row.pk).last_sync_outcome == "ok"
