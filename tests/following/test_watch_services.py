"""A master trading by itself is followed at once through its venue's push, or through the
watcher's poll of a venue that pushes nothing, with no beat at all:
the paper exchange's Binance dialect served by uvicorn (tests/asgi_server.py), PostgreSQL,
Redis (broker, channel layer, cache), a real Celery worker and a real `manage.py follow_watch`
process, each on its own. Only the pushed trade can queue the sync here: no beat runs."""

import time
from decimal import Decimal

import pytest
import redis
from django.conf import settings

from executor.connectors import get_connector
from executor.connectors.base import OrderTicket
from executor.connectors.ccxt_connector import CcxtConnector
from executor.models import ExchangeAccount
from executor.paper.models import PaperPosition
from executor.paper.services import paper_binance_key_create
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save
from following import services, watch
from orders.models import Order
from tests.asgi_server import asgi_server  # noqa: F401  (the fixture)
from tests.following.test_scenarios_services import _spawn, _stop, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_and_watcher(tmp_path):
    """A worker (as `make worker`) and the follow watcher (as `make follow-watch`), no beat."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    (tmp_path / "var").mkdir()
    worker = _spawn(["worker", "--loglevel", "INFO", "--concurrency", "2", "--queues", "celery"], tmp_path / "w.log")
    watcher = _spawn(["manage.py", "follow_watch"], tmp_path / "watch.log", FOLLOW_WATCH_REFRESH="0.5")
    yield
    for process in (watcher, worker):
        _stop(process)
    for name in ("w.log", "watch.log"):
        print(f"--- {name} ---", (tmp_path / name).read_text()[-4000:])


def binance_account(owner, name: str, usdt: str, base_url: str) -> tuple:
    paper, _ = paper_account_create(username=name, password="paper-password-1", balances={"USDT": Decimal(usdt)})
    _, key, secret = paper_binance_key_create(account=paper)
    account = ExchangeAccount(
        owner=owner, label=name, venue="paper", connector="ccxt", exchange_id="binance", base_url=base_url
    )
    return paper, exchange_account_save(account=account, secrets={"api_key": key, "api_secret": secret})


def api_account(owner, name: str, usdt: str, base_url: str) -> tuple:
    """A paper account and the desk's account on the paper exchange's own API (which pushes nothing)."""
    paper, key = paper_account_create(username=name, password="paper-password-1", balances={"USDT": Decimal(usdt)})
    account = ExchangeAccount(owner=owner, label=name, venue="paper", connector="api", base_url=base_url)
    return paper, exchange_account_save(account=account, secrets={"api_key": key})


def follow_at_a_tenth(master, master_account, follower, follower_account) -> None:
    services.master_account_open(user=master, credential_id=master_account.pk)
    services.follow_settings_create(
        user=follower, master_credential_id=master_account.pk, follower_credential_id=follower_account.pk,
        follow_ratio=Decimal("0.1"),
    )  # fmt: skip


def held(paper) -> Decimal:
    row = PaperPosition.objects.filter(account=paper, symbol="BTC-USDT").first()
    return row.qty.normalize() if row else Decimal("0")


def master_buys_and_the_follower_follows(connector, follower_paper, follower_account) -> None:
    """The master buys 1 BTC by itself at the venue; the follower (ratio 0.1) must hold 0.1, and
    the desk must have recorded its order SUCCESS."""
    started = time.monotonic()
    ticket = OrderTicket("mia-own-1", "BTC/USDT", "BUY", "MARKET", Decimal("1"))
    assert connector.place_order(ticket).status == "SUCCESS"
    wait_for(lambda: held(follower_paper) == Decimal("0.1"), 30, "the follower holds 0.1 BTC")
    print(f"master's fill -> the follower holds its share: {time.monotonic() - started:.2f} s")
    # The venue holds the fill before the desk has its answer: wait for the desk to record it.
    recorded = Order.objects.filter(follow_settings__isnull=False).exclude(status__in=["SUBMITTING", "UNKNOWN"])
    wait_for(recorded.exists, 30, "the follower's order recorded")
    [order] = Order.objects.filter(follow_settings__isnull=False)
    assert (order.status, order.side, order.qty, order.exchange_account_id) == (
        "SUCCESS", "BUY", Decimal("0.1"), follower_account.pk,
    )  # fmt: skip


def test_a_master_trading_by_itself_is_followed_through_its_venues_push_with_no_beat_running(
    asgi_server,  # noqa: F811
    master,
    follower,
    worker_and_watcher,
):
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    base_url = f"{asgi_server}/paper/binance"
    _, master_account = binance_account(master, "mia-binance", "10000000", base_url)
    follower_paper, follower_account = binance_account(follower, "fred-binance", "1000000", base_url)
    follow_at_a_tenth(master, master_account, follower, follower_account)
    wait_for(lambda: watch.stream_live(master_account.pk), 60, "the watcher subscribed to the master's trades")

    master_buys_and_the_follower_follows(CcxtConnector(master_account.config()), follower_paper, follower_account)


def test_a_master_whose_venue_pushes_nothing_is_followed_through_the_watchers_poll_with_no_beat_running(
    asgi_server,  # noqa: F811
    master,
    follower,
    worker_and_watcher,
):
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    base_url = f"{asgi_server}/paper"
    _, master_account = api_account(master, "mia-api", "10000000", base_url)
    follower_paper, follower_account = api_account(follower, "fred-api", "1000000", base_url)
    follow_at_a_tenth(master, master_account, follower, follower_account)
    wait_for(lambda: watch.polled_every(master_account.pk) == 0.1, 60, "the watcher polling the master")
    assert not watch.stream_live(master_account.pk)  # the paper API pushes nothing

    connector = get_connector("api", master_account.config())
    master_buys_and_the_follower_follows(connector, follower_paper, follower_account)
