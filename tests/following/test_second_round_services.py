"""Issue 14 end to end (items 2-5): the paper exchange on the live test server, PostgreSQL, Redis,
and ONE real Celery worker and beat for the whole module (separate processes) running the sync.

Nothing here calls the engine: masters trade at the venue, followers use the API, and each test
waits (with a deadline) for what beat and the worker do. Scenarios: two masters with a shared
symbol and unfollow close/keep; fixed-notional sizing and changes-only joining next to joining
now; each cap pausing with its own error type, then resolving; the zero-target warning and its
confirm; a slippage-capped limit leaving a remainder that the next cycles fill.
"""

from decimal import Decimal

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from executor.paper.services.prices import paper_liquidity_set, paper_price_set
from following import services
from following import venue as follow_venue
from following.models import FollowSettings, TradeError
from orders.models import Order
from tests.following.test_scenarios_services import URL, Venue, _spawn, _stop, wait_cycles, wait_for
from tradedesk.celery import app as celery_app

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def celery_processes(tmp_path_factory, django_db_blocker):
    """One worker and one beat for every test of this module (the sync reads the database fresh
    each cycle; the tests' flushes between them leave nothing it keeps)."""
    import os

    tmp = tmp_path_factory.mktemp("second-round")
    (tmp / "var").mkdir()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    # Every cycle evaluates every follower (the max-loss cap is checked at each evaluation).
    os.environ["FOLLOW_RECHECK_SECONDS"] = "0"
    # The run's one credentials key (tests.conftest sets it per test): the worker decrypts with it.
    from cryptography.fernet import Fernet
    from django.test import override_settings

    import tests.conftest as root

    root._TEST_CREDENTIALS_KEY = root._TEST_CREDENTIALS_KEY or Fernet.generate_key().decode()
    with override_settings(CREDENTIALS_KEYS=[root._TEST_CREDENTIALS_KEY]), django_db_blocker.unblock():
        worker = _spawn(["worker", "--loglevel", "INFO", "--concurrency", "2", "--queues", "celery"], tmp / "w.log")
        beat = _spawn(["beat", "--loglevel", "INFO", "-s", str(tmp / "beat")], tmp / "beat.log")
    os.environ.pop("FOLLOW_RECHECK_SECONDS")
    yield {"worker": worker, "beat": beat, "tmp": tmp}
    for process in (beat, worker):
        _stop(process)


@pytest.fixture(autouse=True)
def idle_worker_at_flush(request):
    """The module's worker stops taking tasks at the end of each test and finishes the ones it
    has, before the test's flush: a sync's transaction next to the flush's TRUNCATE of every table
    deadlocks (PostgreSQL then aborts one of them, sometimes the flush)."""
    if "celery_processes" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("celery_processes")
    celery_app.control.add_consumer("celery", reply=True, timeout=5)
    yield
    celery_app.control.cancel_consumer("celery", reply=True, timeout=5)
    inspect = celery_app.control.inspect(timeout=1)

    def idle() -> bool:
        active, reserved = inspect.active() or {}, inspect.reserved() or {}
        return bool(active) and not any(active.values()) and not any(reserved.values())

    wait_for(idle, timeout=60, what="the worker idle before the flush")


@pytest.fixture
def desk(live_server, paper_instruments, master, follower, other_follower):
    """Two masters (mia, max) and two followers (fred, gina), each with a paper account."""
    from django.contrib.auth.models import User

    follow_venue.instruments_cache_clear()
    paper_liquidity_set(symbol="BTC-USDT", liquidity=None)
    first = Venue(f"{live_server.url}/paper", master, follower)
    max_user = User.objects.create_user("max_master", password="correct horse battery staple")
    second_paper, second = first._account(max_user, "max-desk", Decimal("10000000"))
    gina_paper, gina = first._account(other_follower, "gina-desk", Decimal("1000000"))
    for owner, account in ((master, first.master), (max_user, second)):
        services.master_account_open(user=owner, credential_id=account.pk)
    return {"venue": first, "second": second, "gina": gina, "gina_paper": gina_paper}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def follow(client: APIClient, master_account, own_account, ratio: str, **options) -> int:
    body = {"master_credential_id": master_account.pk, "follower_credential_id": own_account.pk}
    response = client.post(f"{URL}/follows", {**body, "follow_ratio": ratio, **options}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def trades(account, side: str, qty: str, venue: Venue) -> None:
    from executor.connectors import get_connector
    from executor.connectors.base import OrderTicket

    venue.trades += 1
    ticket = OrderTicket(f"m-{account.pk}-{venue.trades}", "BTC/USDT", side, "MARKET", Decimal(qty))
    assert get_connector("api", account.config()).place_order(ticket).status == "SUCCESS"


def test_two_masters_add_up_then_unfollow_close_and_keep(celery_processes, desk, follower):
    venue, fred = desk["venue"], api(follower)
    first = follow(fred, venue.master, venue.follower, "0.1")
    second = follow(fred, desk["second"], venue.follower, "0.2")
    venue.master_trades("BUY", "1")
    trades(desk["second"], "BUY", "1", venue)
    wait_for(lambda: venue.follower_position() == Decimal("0.3"), what="0.1 + 0.2 BTC")
    assert {o.follow_settings_id for o in Order.objects.filter(follow_settings__isnull=False)} == {first, second}

    assert fred.delete(f"{URL}/follows/{first}?positions=keep").status_code == 200
    venue.master_trades("SELL", "1")  # mia's moves are no longer copied: her 0.1 BTC is kept
    wait_cycles(3)
    assert venue.follower_position() == Decimal("0.3")
    assert fred.delete(f"{URL}/follows/{second}?positions=close").status_code == 200
    wait_for(lambda: venue.follower_position() == Decimal("0.1"), what="max's 0.2 BTC closed, mia's kept")
    wait_for(lambda: not FollowSettings.objects.get(pk=second).is_active, what="the closed follow off")


def test_fixed_notional_and_changes_only_joining_next_to_joining_now(celery_processes, desk, follower, other_follower):
    venue = desk["venue"]
    venue.master_trades("BUY", "2")
    # fred joins now with 6,500 USDT per master trade; gina joins with changes only.
    follow(api(follower), venue.master, venue.follower, "1", sizing_mode="fixed_notional", fixed_notional="6500")
    follow(api(other_follower), venue.master, desk["gina"], "0.1", join_mode="changes")
    wait_for(lambda: venue.follower_position() == Decimal("0.1"), what="fred: 6500 / 65000")
    wait_cycles(2)
    assert venue.position(desk["gina_paper"]) == Decimal("0")
    venue.master_trades("BUY", "1")
    wait_for(lambda: venue.follower_position() == Decimal("0.2"), what="fred: one more 0.1")
    wait_for(lambda: venue.position(desk["gina_paper"]) == Decimal("0.1"), what="gina: the new 1 BTC x 0.1")


def test_equity_sizing_copies_in_proportion_to_equity(celery_processes, desk):
    from django.contrib.auth.models import User

    venue = desk["venue"]
    ella = User.objects.create_user("ella_follower", password="correct horse battery staple")
    ella_paper, ella_account = venue._account(ella, "ella-desk", Decimal("1000000"))
    follow(api(ella), venue.master, ella_account, "1", sizing_mode="equity")
    venue.master_trades("BUY", "1")
    # 1 BTC x 1 x ella's equity (1,000,000) / mia's (10,000,000, less a fee): 0.1, or a lot under.
    wait_for(lambda: Decimal("0.0990") <= venue.position(ella_paper) <= Decimal("0.1"), what="ella near 0.1 BTC")


def _paused_by(user, error_type: str) -> TradeError:
    error = wait_for(
        lambda: TradeError.objects.filter(user=user, is_resolved=False).first(), what=f"a {error_type} error"
    )
    assert error.error_type == error_type, error.error_message
    return error


def _raise_and_resolve(client: APIClient, follow_id: int, error: TradeError, **cap) -> None:
    assert client.patch(f"{URL}/follows/{follow_id}", cap, format="json").status_code == 200
    assert client.post(f"{URL}/errors/{error.pk}/resolve").json()["resumed"]


def test_each_cap_pauses_with_its_own_error_type_then_resolves(celery_processes, desk, follower):
    venue, fred = desk["venue"], api(follower)
    row = follow(fred, venue.master, venue.follower, "0.1", max_order_notional="1000")
    venue.master_trades("BUY", "1")
    error = _paused_by(follower, "CAP_ORDER_NOTIONAL")
    assert venue.follower_position() == Decimal("0")
    _raise_and_resolve(fred, row, error, max_order_notional="100000", max_trades_per_day=1)
    wait_for(lambda: venue.follower_position() == Decimal("0.1"), what="0.1 BTC after the cap was raised")

    venue.master_trades("BUY", "1")
    error = _paused_by(follower, "CAP_TRADES_PER_DAY")
    _raise_and_resolve(fred, row, error, max_trades_per_day=10, max_position_notional="15000")
    wait_for(lambda: venue.follower_position() == Decimal("0.2"), what="0.2 BTC after the cap was raised")
    venue.master_trades("BUY", "1")  # 0.3 BTC x 65,000 = 19,500 > 15,000
    error = _paused_by(follower, "CAP_POSITION_NOTIONAL")
    assert venue.follower_position() == Decimal("0.2")
    _raise_and_resolve(fred, row, error, max_position_notional="100000", max_loss="0.001")
    wait_for(lambda: venue.follower_position() == Decimal("0.3"), what="0.3 BTC")

    paper_price_set(symbol="BTC-USDT", price=Decimal("60000"))  # 0.3 x -5,000: over 0.1% of equity
    error = _paused_by(follower, "CAP_MAX_LOSS")
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    _raise_and_resolve(fred, row, error, max_loss="0.5")
    venue.master_trades("BUY", "1")
    wait_for(lambda: venue.follower_position() == Decimal("0.4"), what="following again after the max loss")


def test_a_ratio_that_rounds_to_zero_is_confirmed_first_and_shown(celery_processes, desk, follower):
    venue, fred = desk["venue"], api(follower)
    body = {"master_credential_id": venue.master.pk, "follower_credential_id": venue.follower.pk}
    assert fred.post(f"{URL}/settings", {**body, "follow_ratio": "0.1"}, format="json").status_code == 201
    venue.master_trades("BUY", "1")
    wait_for(lambda: venue.follower_position() == Decimal("0.1"), what="0.1 BTC")
    refused = fred.put(f"{URL}/settings", {"follow_ratio": "0.00001"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "confirm_required"
    assert "follow_ratio" in refused.json()["fields"]
    confirmed = fred.put(f"{URL}/settings", {"follow_ratio": "0.00001", "confirm": True}, format="json")
    assert confirmed.status_code == 200
    wait_for(lambda: venue.follower_position() == Decimal("0"), what="the confirmed change applied")
    line = fred.get(f"{URL}/status").json()["positions"][0]
    assert (line["rounds_to_zero"], line["target_unrounded"], line["expected_qty"]) == (True, "0.00001", "0")


def test_a_slippage_capped_limit_leaves_a_remainder_the_next_cycles_fill(celery_processes, desk, follower):
    venue, fred = desk["venue"], api(follower)
    row = follow(fred, venue.master, venue.follower, "0.1", is_active=False)
    venue.master_trades("BUY", "1")
    paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.03"))  # one 0.03 round per mark
    assert fred.patch(f"{URL}/follows/{row}", {"is_active": True}, format="json").status_code == 200
    first = wait_for(lambda: Order.objects.filter(follow_settings_id=row).first(), what="the first limit")
    assert (first.order_type, first.price) == ("LIMIT", Decimal("65325"))
    wait_for(lambda: Order.objects.filter(follow_settings_id=row).count() >= 2, what="a second order")
    paper_liquidity_set(symbol="BTC-USDT", liquidity=None)
    wait_for(lambda: venue.follower_position() == Decimal("0.1"), what="0.1 BTC in parts")
    orders = list(Order.objects.filter(follow_settings_id=row).order_by("id"))
    wait_for(
        lambda: all(o.venue_state in ("FILLED", "CANCELED") for o in Order.objects.filter(follow_settings_id=row)),
        what="every part final",
    )
    assert len(orders) >= 2 and all(o.order_type == "LIMIT" for o in orders)
