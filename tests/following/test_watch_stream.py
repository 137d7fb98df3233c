"""The follow watcher on the real wire: ccxt.pro, unmodified, subscribed to the paper exchange's
Binance User Data Stream (its WebSocket API, served by uvicorn in this process); the master
trades at the venue by itself through Binance's REST API, and the pushed trade queues its
followers' sync, with the trade's price, before any poll."""

import asyncio
import threading
import time
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from executor.connectors.base import OrderTicket
from executor.connectors.ccxt_connector import CcxtConnector
from executor.models import ExchangeAccount
from executor.paper.services import paper_binance_key_create
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save
from following import services, watch
from tests.asgi_server import asgi_server  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pushing_master(asgi_server, master, follower, make_account):  # noqa: F811
    """The master's desk account on the paper exchange's Binance dialect, followed by one."""
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    paper, _ = paper_account_create(username="mia", password="paper-password-1", balances={"USDT": Decimal("1000000")})
    _, key, secret = paper_binance_key_create(account=paper)
    account = ExchangeAccount(
        owner=master, label="mia-binance", venue="paper", connector="ccxt", exchange_id="binance",
        base_url=f"{asgi_server}/paper/binance",
    )  # fmt: skip
    account = exchange_account_save(account=account, secrets={"api_key": key, "api_secret": secret})
    services.master_account_open(user=master, credential_id=account.pk)
    services.follow_settings_create(
        user=follower, master_credential_id=account.pk, follower_credential_id=make_account(follower).pk,
        follow_ratio=Decimal("0.1"),
    )  # fmt: skip
    return account


def master_buys(account: ExchangeAccount, qty: str, cid: str) -> None:
    ticket = OrderTicket(cid, "BTC/USDT", "BUY", "MARKET", Decimal(qty))
    assert CcxtConnector(account.config()).place_order(ticket).status == "SUCCESS"


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_the_masters_stream_pushes_its_trade_with_symbol_side_qty_price_and_ids(pushing_master):
    stream = watch.connector_for(pushing_master).execution_stream()
    got: list = []

    async def first_trade() -> None:
        await asyncio.wait_for(stream.connect(), timeout=10)  # the venue confirmed the subscription
        task = asyncio.get_running_loop().create_task(stream.next())
        await asyncio.get_running_loop().run_in_executor(None, master_buys, pushing_master, "0.5", "mia-own-1")
        try:
            got.extend(await asyncio.wait_for(task, timeout=10))
        finally:
            await stream.close()

    async_to_sync(first_trade)()
    [execution] = got
    assert (execution.symbol, execution.side, execution.qty, execution.price) == (
        "BTC/USDT", "BUY", Decimal("0.5"), Decimal("65000"),
    )  # fmt: skip
    assert execution.client_order_id == "mia-own-1" and execution.exchange_order_id and execution.trade_id


def test_a_trade_the_master_makes_by_itself_queues_its_followers_sync_at_once(pushing_master, queued_master_syncs):
    stop_at: list = []

    def run_watcher() -> None:
        async def main() -> None:
            stop = asyncio.Event()
            stop_at.append((asyncio.get_running_loop(), stop))
            await watch.watch(stop)

        asyncio.run(main())

    watcher = threading.Thread(target=run_watcher, daemon=True)
    watcher.start()
    try:
        wait_for(lambda: watch.stream_live(pushing_master.pk))  # found the master and subscribed
        master_buys(pushing_master, "0.2", "mia-own-2")
        wait_for(lambda: queued_master_syncs)
        assert queued_master_syncs == [(pushing_master.pk, False, {"BTC/USDT": "65000"})]
    finally:
        loop, stop = stop_at[0]
        loop.call_soon_threadsafe(stop.set)
        watcher.join(timeout=10)
    assert not watcher.is_alive()
    assert not watch.stream_live(pushing_master.pk)  # its stream closed with it
