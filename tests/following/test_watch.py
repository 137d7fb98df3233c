"""The follow watcher (following/watch.py): masters whose venue pushes their trades get a stream;
each batch of the master's own trades queues its followers' sync with their average price; a
broken stream is reconnected and queues a sync when back; trades of the desk's own orders queue
nothing (the order's hook did). The stream on the real wire: test_watch_stream.py."""

import asyncio
import threading
from decimal import Decimal
from types import SimpleNamespace

import ccxt.pro
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.core.cache import cache

from executor.connectors import ccxt_pool
from executor.connectors.base import Execution, ExecutionStream
from executor.connectors.ccxt_stream import CcxtExecutionStream, watches_trades
from following import batches, dispatch, services, venue, watch

pytestmark = pytest.mark.django_db

KEYS = {"api_key": "k" * 64, "api_secret": "s" * 64}


@pytest.fixture
def binance_master(master, make_account):
    account = make_account(
        master, label="master-binance", connector="ccxt", exchange_id="binance", base_url="http://venue:1/paper/binance",
        secrets=KEYS,
    )  # fmt: skip
    services.master_account_open(user=master, credential_id=account.pk)
    return account


def follow_master(account, follower, follower_account):
    return services.follow_settings_create(
        user=follower, master_credential_id=account.pk, follower_credential_id=follower_account.pk,
        follow_ratio=Decimal("0.1"),
    )  # fmt: skip


def buy(qty: str, price: str, cid: str = "", symbol: str = "BTC/USDT") -> Execution:
    return Execution(symbol=symbol, side="BUY", qty=Decimal(qty), price=Decimal(price), client_order_id=cid)


class ScriptedStream(ExecutionStream):
    """A stream that fails to connect, breaks, answers or waits as told: one of `connects` per
    call to connect() (an exception, or None: subscribed), one of `steps` per call to next()."""

    def __init__(self, steps: list, key: str = "k1", connects: list | None = None) -> None:
        self.steps, self.key, self.closed, self.connects = list(steps), key, 0, list(connects or [])

    async def connect(self) -> None:
        if self.connects and self.connects.pop(0) is not None:
            raise ConnectionError("refused")

    async def next(self) -> list[Execution]:
        while not self.steps:
            await asyncio.sleep(0.005)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    async def close(self) -> None:
        self.closed += 1


def test_a_followed_master_whose_venue_pushes_its_trades_gets_a_stream_and_the_others_are_polled(
    master, follower, follower_account, binance_master, make_account
):
    follow_master(binance_master, follower, follower_account)
    polled = make_account(master, label="master-dry-run")
    services.master_account_open(user=master, credential_id=polled.pk)
    follow_master(polled, follower, make_account(follower, label="f2"))
    unfollowed = make_account(master, label="m3", connector="ccxt", exchange_id="binance", secrets=KEYS)
    services.master_account_open(user=master, credential_id=unfollowed.pk)

    wanted = watch.streams_wanted()
    assert list(wanted) == [binance_master.pk]
    assert list(watch.masters_wanted()[1]) == [polled.pk]  # the dry run pushes nothing: polled
    stream = wanted[binance_master.pk]
    assert isinstance(stream, CcxtExecutionStream)
    assert stream.key == ccxt_pool.fingerprint(binance_master.config())


def test_an_exchange_ccxt_pro_cannot_watch_gives_no_stream(master, make_account):
    assert watches_trades("binance")
    assert "bigone" not in ccxt.pro.exchanges
    assert not watches_trades("bigone")
    account = make_account(master, label="m-bigone", connector="ccxt", exchange_id="bigone", secrets=KEYS)
    assert watch.connector_for(account).execution_stream() is None


def test_the_streams_instance_reaches_the_paper_dialects_websocket_api_at_the_accounts_base_url(binance_master):
    exchange = ccxt_pool.build(binance_master.config(), family=ccxt.pro)
    try:
        assert exchange.urls["api"]["ws"]["ws-api"]["spot"] == "ws://venue:1/paper/binance/ws-api/v3"
        assert exchange.urls["api"]["public"] == "http://venue:1/paper/binance/api/v3"
        assert (exchange.apiKey, exchange.options["defaultType"]) == (KEYS["api_key"], "spot")
    finally:
        async_to_sync(exchange.close)()
    secure = ccxt.pro.binance()
    ccxt_pool.point_at(secure, "https://proxy.example/binance")
    assert secure.urls["api"]["ws"]["ws-api"]["spot"] == "wss://proxy.example/binance/ws-api/v3"
    async_to_sync(secure.close)()


def test_a_masters_pushed_trades_queue_its_followers_sync_with_their_average_price(binance_master, queued_master_syncs):
    trades = [buy("0.1", "65000", "own-1"), buy("0.3", "65100", "own-1"), buy("2", "3000", "own-2", "ETH/USDT")]
    assert watch.master_traded(binance_master.pk, trades)
    assert queued_master_syncs == [(binance_master.pk, False, {"BTC/USDT": "65075", "ETH/USDT": "3000"})]


def test_trades_of_the_desks_own_orders_on_the_master_queue_nothing(
    binance_master, queued_master_syncs, make_order, make_signal
):
    order = make_order(make_signal(), exchange_account=binance_master)
    assert not watch.master_traded(binance_master.pk, [buy("0.1", "65000", order.client_order_id)])
    assert queued_master_syncs == []
    # Beside one of the master's own trades, only the master's own counts.
    assert watch.master_traded(binance_master.pk, [buy("0.1", "1", order.client_order_id), buy("0.1", "2", "x")])
    assert queued_master_syncs == [(binance_master.pk, False, {"BTC/USDT": "2"})]


def test_a_broken_stream_is_reconnected_and_queues_a_sync_once_it_is_back(
    binance_master, queued_master_syncs, settings
):
    settings.FOLLOW_WATCH_RETRY_MIN = 0.01
    # Subscribed, pushes nothing, breaks; refused twice; then subscribed again.
    stream = ScriptedStream([[], ConnectionError("reset")], connects=[None, "refused", "refused", None])

    async def until(done) -> None:
        for _ in range(300):
            if done():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("timed out")

    async def run() -> None:
        task = asyncio.get_running_loop().create_task(watch.watch_master(binance_master.pk, stream))
        await until(lambda: not stream.connects and queued_master_syncs)
        # Back: one plain sync, for what happened while it was down.
        assert queued_master_syncs == [(binance_master.pk,)]
        assert await sync_to_async(watch.stream_live)(binance_master.pk)
        # The trade pushed next finds that sync queued_master_syncs and not started (it reads the newest positions).
        stream.steps.append([buy("1", "65000")])
        await until(lambda: not stream.steps)
        await asyncio.sleep(0.05)
        assert queued_master_syncs == [(binance_master.pk,)]
        cache.delete(dispatch.QUEUED.format(binance_master.pk))  # a worker started it
        stream.steps.append([buy("1", "65010")])
        await until(lambda: len(queued_master_syncs) == 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    async_to_sync(run)()
    assert queued_master_syncs[1] == (binance_master.pk, False, {"BTC/USDT": "65010"})
    assert stream.closed == 4  # after the break, after each refusal, and when cancelled
    assert not watch.stream_live(binance_master.pk)


def test_watch_keeps_one_stream_per_master_rebuilds_it_when_its_keys_change_and_stops_it_when_unfollowed(
    monkeypatch, settings
):
    settings.FOLLOW_WATCH_REFRESH = 0.01
    first, same, changed = ScriptedStream([], "k1"), ScriptedStream([], "k1"), ScriptedStream([], "k2")
    rounds = [{7: first}, {7: same}, {7: changed}, {}]
    started: list[ExecutionStream] = []

    async def fake_watch_master(account_id: int, stream: ExecutionStream) -> None:
        started.append(stream)
        try:
            await asyncio.sleep(3600)
        finally:
            await stream.close()

    monkeypatch.setattr(watch, "watch_master", fake_watch_master)
    monkeypatch.setattr(watch, "masters_wanted", lambda: (rounds.pop(0) if len(rounds) > 1 else rounds[0], {}))

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(watch.watch(stop))
        for _ in range(300):
            if len(rounds) == 1 and changed.closed:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await task

    async_to_sync(run)()
    assert started == [first, changed]  # the same key is not rebuilt
    assert (first.closed, same.closed, changed.closed) == (1, 0, 1)


def test_a_polled_change_queues_a_sync_unless_the_masters_last_full_sync_saw_it(master_account, queued_master_syncs):
    batches.master_seen(master_account.pk, SimpleNamespace(fingerprint="b"))
    assert not watch.master_changed(master_account.pk, "a", "a")  # no change since the last read
    assert not watch.master_changed(master_account.pk, "b", "a")  # a sync (the desk's order) saw it
    assert watch.master_changed(master_account.pk, "c", "a")
    assert queued_master_syncs == [(master_account.pk,)]


def _wait(condition, seconds: float = 5.0):
    async def waiting() -> None:
        for _ in range(int(seconds / 0.01)):
            if await sync_to_async(condition)():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("not in time")

    return waiting()


def test_the_watcher_polls_a_master_that_pushes_nothing_and_queues_its_sync_on_each_change_only(
    master_account, follower, follower_account, follow, trade, queued_master_syncs, settings, monkeypatch, caplog
):
    settings.FOLLOW_WATCH_POLL = 0.01
    settings.FOLLOW_WATCH_REFRESH = 0.05
    follow(follower, follower_account)
    account_id = master_account.pk
    reads = []
    read = venue.master_snapshot

    def counted(account):
        reads.append(account.pk)
        if 3 <= len(reads) <= 5:
            raise ConnectionError("venue down")
        return read(account)

    monkeypatch.setattr(venue, "master_snapshot", counted)

    def started_sync() -> None:  # what a worker starting the queued sync does first
        cache.delete(dispatch.QUEUED.format(account_id))

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(watch.watch(stop))
        # The first read: no full sync has seen the master yet, so its sync is queued.
        await _wait(lambda: len(queued_master_syncs) == 1)
        beat = await sync_to_async(watch.watcher_heartbeat)()  # for ops.health
        assert beat["polls"] == 1 and beat["streams"] == 0
        started_sync()
        await _wait(lambda: len(reads) >= 20)  # reads that fail, then reads that find no change
        assert len(queued_master_syncs) == 1
        assert await sync_to_async(watch.polled_every)(account_id) == 0.01
        await sync_to_async(trade)(master_account, "BUY", "1")
        await _wait(lambda: len(queued_master_syncs) == 2)
        started_sync()
        count = len(reads)
        await _wait(lambda: len(reads) >= count + 10)
        assert len(queued_master_syncs) == 2  # one sync per change
        stop.set()
        await task

    with caplog.at_level("INFO", logger="following.watch"):
        async_to_sync(run)()
    assert queued_master_syncs == [(account_id,), (account_id,)]
    assert set(reads) == {account_id}
    assert watch.watcher_heartbeat() is None  # stopped on purpose: no outage
    down = [r for r in caplog.records if "positions unavailable to the watcher" in r.getMessage()]
    assert len(down) == 1  # three failed reads, one warning
    assert any("positions readable again" in r.getMessage() for r in caplog.records)
    count = len(reads)
    async_to_sync(asyncio.sleep)(0.05)
    assert len(reads) == count  # the watcher stopped its polls with it


def test_with_follow_watch_poll_zero_the_watcher_leaves_such_masters_to_beat(
    master_account, follower, follower_account, follow, queued_master_syncs, settings, monkeypatch
):
    settings.FOLLOW_WATCH_POLL = 0
    settings.FOLLOW_WATCH_REFRESH = 0.01
    follow(follower, follower_account)
    reads = []
    monkeypatch.setattr(venue, "master_snapshot", lambda account: reads.append(account.pk))

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(watch.watch(stop))
        await asyncio.sleep(0.1)
        stop.set()
        await task

    async_to_sync(run)()
    assert reads == [] and queued_master_syncs == []


def test_masters_whose_venues_hang_do_not_hold_back_another_masters_polls(
    master, make_account, settings, monkeypatch, django_user_model, queued_master_syncs
):
    settings.FOLLOW_WATCH_POLL = 0.01
    settings.FOLLOW_WATCH_REFRESH = 60
    masters = []
    for n in range(41):  # more hung venues than asyncio's default pool has threads on any machine (32)
        account = make_account(master, label=f"m{n}")
        services.master_account_open(user=master, credential_id=account.pk)
        user = django_user_model.objects.create_user(f"f{n}")
        follow_master(account, user, make_account(user, label=f"f{n}"))
        masters.append(account.pk)
    healthy, hung = masters[0], set(masters[1:])
    release = threading.Event()
    reads: list[int] = []
    read = venue.master_snapshot

    def snapshot(account):
        if account.pk in hung:
            release.wait(10)  # a venue that answers nothing until its timeout
            raise TimeoutError("no answer")
        reads.append(account.pk)
        return read(account)

    monkeypatch.setattr(venue, "master_snapshot", snapshot)

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(watch.watch(stop))
        try:
            await _wait(lambda: len(reads) >= 20, seconds=5)
        finally:
            release.set()
            stop.set()
            await task

    async_to_sync(run)()
    assert set(reads) == {healthy}


def test_the_watcher_says_it_is_alive_even_when_it_cannot_read_its_masters(monkeypatch, settings):
    settings.FOLLOW_WATCH_REFRESH = 0.01

    def unreadable():
        raise ConnectionError("the database is down")  # its own readiness check reports that

    monkeypatch.setattr(watch, "masters_wanted", unreadable)
    cache.delete(watch.HEARTBEAT)

    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(watch.watch(stop))
        try:
            await _wait(lambda: watch.watcher_heartbeat() is not None, seconds=5)
        finally:
            stop.set()
            await task

    async_to_sync(run)()
