"""The follower sync engine on the dry-run venue: targets, lots and minimums, orders in flight,
failures that pause, isolation between followers, the cycle lock, and query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from executor.connectors.base import ErrorCode, OrderResult
from executor.connectors.dry_run import DryRunConnector
from following import sizing, sync
from following import venue as follow_venue
from following.models import FollowSettings, SyncOutcome, SyncRun, TradeError
from orders.models import Order
from tests.following.conftest import positions
from tradedesk.exceptions import Conflict

pytestmark = pytest.mark.django_db


def test_the_follower_is_brought_to_master_times_ratio(follower, follower_account, master_account, follow, trade):
    row = follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    run = sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}
    order = Order.objects.get(follow_settings=row)
    assert (order.side, order.qty, order.status, order.signal_id) == ("BUY", Decimal("0.1"), "SUCCESS", None)
    assert (run.outcome, run.masters_read, run.followers_synced, run.orders_placed) == ("ok", 1, 1, 1)
    row.refresh_from_db()
    assert (
        row.last_sync_outcome == SyncOutcome.ORDERED and row.last_sync_detail["symbols"]["BTC/USDT"]["target"] == "0.1"
    )


def test_the_target_is_rounded_down_to_the_lot_and_a_sell_follows_a_smaller_master(
    settings, follower, follower_account, master_account, follow, trade
):
    settings.FOLLOW_DEFAULT_LOT_SIZE = Decimal("0.001")
    follow(follower, follower_account, "0.333")
    trade(master_account, "BUY", "1.0")
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.333")}
    trade(master_account, "SELL", "0.5")
    sync.follow_sync_cycle()
    # 0.5 x 0.333 = 0.1665, down to the lot: 0.166
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.166")}
    assert list(Order.objects.filter(follow_settings__isnull=False).order_by("id").values_list("side", "qty")) == [
        ("BUY", Decimal("0.333")),
        ("SELL", Decimal("0.167")),
    ]


def test_a_closed_master_position_is_closed_by_the_follower(follower, follower_account, master_account, follow, trade):
    follow(follower, follower_account, "0.5")
    trade(master_account, "BUY", "1.0")
    sync.follow_sync_cycle()
    trade(master_account, "SELL", "1.0")
    sync.follow_sync_cycle()
    assert positions(follower_account) == {}


def test_a_target_under_one_lot_is_zero_and_nothing_is_ordered(
    settings, follower, follower_account, master_account, follow, trade
):
    settings.FOLLOW_DEFAULT_LOT_SIZE = Decimal("0.01")
    row = follow(follower, follower_account, "0.01")
    trade(master_account, "BUY", "0.5")  # 0.005 is below one lot of 0.01
    run = sync.follow_sync_cycle()
    assert not Order.objects.filter(follow_settings=row).exists()
    assert not TradeError.objects.exists()
    row.refresh_from_db()
    assert row.is_active and row.last_sync_outcome == SyncOutcome.OK
    assert row.last_sync_detail["symbols"]["BTC/USDT"]["target"] == "0"  # 0.005 rounds down to 0
    assert run.errors == 0


def test_a_difference_below_the_venue_minimum_is_recorded_and_skipped(
    settings, follower, follower_account, master_account, follow, trade
):
    settings.FOLLOW_DEFAULT_LOT_SIZE = Decimal("0.01")
    row = follow(follower, follower_account, "1")
    trade(master_account, "BUY", "0.5")
    sync.follow_sync_cycle()
    trade(follower_account, "SELL", "0.005")  # the follower drifts by less than a lot
    settings.FOLLOW_RECHECK_SECONDS = 0  # time for the venue to be read again
    run = sync.follow_sync_cycle()
    row.refresh_from_db()
    assert row.last_sync_detail["symbols"]["BTC/USDT"]["action"] == "below_min"
    assert run.below_min == 1 and Order.objects.filter(follow_settings=row).count() == 1
    assert row.is_active and row.last_sync_outcome == SyncOutcome.BELOW_MIN and not TradeError.objects.exists()


def test_an_order_in_flight_counts_and_is_never_ordered_again(
    follower, follower_account, master_account, follow, trade, make_signal
):
    row = follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    # An order of an earlier cycle whose answer is still out (placed at the venue, not yet recorded).
    Order.objects.create(
        follow_settings=row, symbol="BTC/USDT", side="BUY", order_type="MARKET", qty=Decimal("0.1"),
        venue="dry_run", exchange_account=follower_account, status="UNKNOWN",
    )  # fmt: skip
    trade(follower_account, "BUY", "0.1")
    for _ in range(3):
        sync.follow_sync_cycle()
    assert Order.objects.filter(follow_settings=row).count() == 1
    row.refresh_from_db()
    assert row.last_sync_outcome == SyncOutcome.WAITING


def test_the_database_refuses_a_second_order_in_flight_for_the_same_follower_and_symbol(
    follower, follower_account, master_account, follow
):
    from following.follower_orders import follower_order_create

    row = follow(follower, follower_account)
    values = {"follow_settings_id": row.pk, "user": follower, "account": follower_account, "symbol": "BTC/USDT"}
    follower_order_create(**values, side="BUY", qty=Decimal("0.1"))
    with pytest.raises(Conflict) as refused:
        follower_order_create(**values, side="BUY", qty=Decimal("0.1"))
    assert refused.value.code == "follower_order_in_flight"
    assert Order.objects.filter(follow_settings=row).count() == 1


def test_a_failure_records_a_trade_error_and_pauses_the_follower(
    monkeypatch, follower, follower_account, master_account, follow, trade
):
    row = follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    refuse(monkeypatch, follower_account, "INSUFFICIENT_BALANCE: needs 6500 USDT, has 10")
    run = sync.follow_sync_cycle()
    row.refresh_from_db()
    error = TradeError.objects.get(user=follower)
    order = Order.objects.get(follow_settings=row)
    assert not row.is_active
    assert (error.error_type, error.trade_log_id, error.is_resolved) == ("INSUFFICIENT_BALANCE", order.pk, False)
    assert error.error_details["client_order_id"] == order.client_order_id and error.error_details["qty"] == "0.1"
    assert order.status == "FAILED" and run.errors == 1 and run.outcome == "partial"
    reasons = [h.history_change_reason for h in FollowSettings.history.filter(id=row.pk).order_by("history_date")]
    assert reasons[-1] == f"paused by trade error {error.pk} (INSUFFICIENT_BALANCE)"


def test_a_paused_follower_is_not_followed_until_its_error_is_resolved(
    monkeypatch, follower, follower_account, master_account, follow, trade
):
    from following import services

    row = follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    undo = refuse(monkeypatch, follower_account, "INSUFFICIENT_BALANCE: no money")
    sync.follow_sync_cycle()
    undo()
    trade(master_account, "BUY", "1.0")
    sync.follow_sync_cycle()
    assert positions(follower_account) == {}
    assert Order.objects.filter(follow_settings=row).count() == 1
    services.trade_error_resolve(user=follower, error_id=TradeError.objects.get().pk)
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.2")}


def test_one_failing_follower_does_not_stop_the_others(
    monkeypatch, settings, follower, other_follower, make_account, master_account, follow, trade
):
    failing, healthy = make_account(follower), make_account(other_follower)
    follow(follower, failing, "0.1")
    follow(other_follower, healthy, "0.2")
    trade(master_account, "BUY", "1.0")
    original = follow_venue.read_positions

    def broken(account):
        if account.pk == failing.pk:
            raise RuntimeError("venue down for this account")
        return original(account)

    monkeypatch.setattr(follow_venue, "read_positions", broken)
    run = sync.follow_sync_cycle()
    assert positions(healthy) == {"BTC/USDT": Decimal("0.2")}
    assert TradeError.objects.get().error_type == "POSITIONS_UNAVAILABLE"
    assert (run.errors, run.orders_placed) == (1, 1)


def test_a_master_that_cannot_be_read_skips_its_followers_without_pausing_them(
    monkeypatch, follower, follower_account, master_account, follow, trade
):
    row = follow(follower, follower_account)
    monkeypatch.setattr(DryRunConnector, "get_positions", lambda self: (_ for _ in ()).throw(OSError("down")))
    run = sync.follow_sync_cycle()
    row.refresh_from_db()
    assert row.is_active and row.last_sync_outcome == SyncOutcome.MASTER_UNAVAILABLE
    assert run.outcome == "partial" and "positions unavailable" in run.detail and not TradeError.objects.exists()


def test_an_inactive_follower_is_not_followed(follower, follower_account, master_account, follow, trade):
    follow(follower, follower_account, "0.1", is_active=False)
    trade(master_account, "BUY", "1.0")
    run = sync.follow_sync_cycle()
    assert positions(follower_account) == {} and run.followers_synced == 0


def test_a_cycle_that_finds_the_lock_taken_does_nothing(follower, follower_account, master_account, follow, trade):
    follow(follower, follower_account)
    trade(master_account, "BUY", "1.0")
    cache.add(sync.CYCLE_LOCK, "another-cycle", timeout=60)
    run = sync.follow_sync_cycle()
    assert run.outcome == SyncRun.Outcome.SKIPPED and not Order.objects.exists()
    cache.delete(sync.CYCLE_LOCK)
    assert sync.follow_sync_cycle().orders_placed == 1


def test_an_unchanged_master_costs_no_venue_call_and_reading_settings_does_not_grow_per_follower(
    monkeypatch, make_account, master_account, follow, trade
):
    from django.contrib.auth.models import User

    def followers(count: int) -> None:
        for _ in range(count):
            user = User.objects.create_user(f"f{User.objects.count()}")
            follow(user, make_account(user))

    trade(master_account, "BUY", "1.0")
    followers(3)
    sync.follow_sync_cycle()  # everyone in sync now
    reads = []
    original = follow_venue.read_positions
    monkeypatch.setattr(follow_venue, "read_positions", lambda account: reads.append(account.pk) or original(account))

    def queries_of_a_quiet_cycle() -> int:
        with CaptureQueriesContext(connection) as captured:
            run = sync.follow_sync_cycle()
        assert run.followers_skipped == FollowSettings.objects.count()
        return len(captured)

    few = queries_of_a_quiet_cycle()
    followers(30)
    sync.follow_sync_cycle()
    reads.clear()
    many = queries_of_a_quiet_cycle()
    assert few == many
    assert reads == [master_account.pk]  # the master once; no follower read at all


def test_the_master_is_read_once_per_cycle_however_many_followers(
    monkeypatch, make_account, master_account, follow, trade
):
    from django.contrib.auth.models import User

    for index in range(5):
        user = User.objects.create_user(f"follower{index}")
        follow(user, make_account(user))
    trade(master_account, "BUY", "1.0")
    reads = []
    original = follow_venue.read_positions
    monkeypatch.setattr(follow_venue, "read_positions", lambda account: reads.append(account.pk) or original(account))
    run = sync.follow_sync_cycle()
    assert reads.count(master_account.pk) == 1 and run.orders_placed == 5


def test_an_order_over_the_follow_limit_pauses_the_follower(
    settings, follower, follower_account, master_account, follow, trade
):
    settings.FOLLOW_MAX_ORDER_QTY = "0.05"
    row = follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    sync.follow_sync_cycle()
    row.refresh_from_db()
    assert not row.is_active and TradeError.objects.get().error_type == "ORDER_REFUSED"
    assert not Order.objects.exists()


def refuse(monkeypatch, account, message: str):
    """The dry-run venue rejects this account's orders (as a venue would without the money)."""
    original = DryRunConnector.place_order

    def place(self, ticket):
        if self.account.key == str(account.pk):
            return OrderResult.failed(ticket.client_order_id, ErrorCode.REJECTED, message)
        return original(self, ticket)

    monkeypatch.setattr(DryRunConnector, "place_order", place)
    return lambda: monkeypatch.setattr(DryRunConnector, "place_order", original)


def test_between_rechecks_the_follower_is_not_read_again_and_a_trade_outside_is_caught_at_the_recheck(
    monkeypatch, settings, follower, follower_account, master_account, follow, trade
):
    follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    sync.follow_sync_cycle()
    reads = []
    original = follow_venue.read_positions
    monkeypatch.setattr(follow_venue, "read_positions", lambda account: reads.append(account.pk) or original(account))
    trade(master_account, "BUY", "1.0")
    trade(follower_account, "SELL", "0.05")  # the follower trades by itself
    sync.follow_sync_cycle()
    # Its positions: the venue's last read plus its fills since (0.1 + 0.1); the master is read.
    assert reads == [master_account.pk] and positions(follower_account) == {"BTC/USDT": Decimal("0.15")}
    settings.FOLLOW_RECHECK_SECONDS = 0
    sync.follow_sync_cycle()
    assert follower_account.pk in reads and positions(follower_account) == {"BTC/USDT": Decimal("0.2")}


def test_cycle_records_older_than_a_week_are_pruned():
    from datetime import timedelta

    from django.utils import timezone

    old = SyncRun.objects.create(started_at=timezone.now() - timedelta(days=8), outcome="ok")
    recent = SyncRun.objects.create(started_at=timezone.now() - timedelta(days=6), outcome="ok")
    while SyncRun.objects.order_by("-id").first().pk % 100 != 99:
        SyncRun.objects.create(started_at=timezone.now(), outcome="skipped")
    sync.follow_sync_cycle()
    assert not SyncRun.objects.filter(pk=old.pk).exists() and SyncRun.objects.filter(pk=recent.pk).exists()


def test_a_cycle_left_running_by_a_dead_worker_is_recorded_failed():
    from datetime import timedelta

    from django.utils import timezone

    dead = SyncRun.objects.create(started_at=timezone.now() - timedelta(hours=1))
    sync.follow_sync_cycle()
    dead.refresh_from_db()
    assert dead.outcome == SyncRun.Outcome.FAILED and "stopped" in dead.detail


def test_masters_are_read_at_the_same_time_and_a_failing_one_skips_only_its_followers(
    settings, monkeypatch, make_account, follower, other_follower, master, trade
):
    from following import services

    settings.FOLLOW_SYNC_THREADS = 2  # the masters are read in two threads
    # The followers one after another in this thread: the test's transaction is this thread's.
    monkeypatch.setattr(sync, "_run_jobs", lambda jobs, in_flight, now, shared: [
        sync.sync_follower(row=row, snapshot=snapshot, in_flight=set(), now=now)
        for group in jobs for row, snapshot in group
    ])  # fmt: skip
    first, second = make_account(master, label="one"), make_account(master, label="two")
    for user, account in ((follower, first), (other_follower, second)):
        services.master_account_open(user=master, credential_id=account.pk)
        own = make_account(user)
        services.follow_settings_create(
            user=user, master_credential_id=account.pk, follower_credential_id=own.pk, follow_ratio=Decimal("0.1")
        )
    trade(first, "BUY", "1.0")
    original = follow_venue.master_snapshot

    def read(account):
        if account.pk == second.pk:
            raise OSError("down")
        return original(account)

    monkeypatch.setattr(follow_venue, "master_snapshot", read)
    run = sync.follow_sync_cycle()
    assert (run.masters_read, run.orders_placed, run.outcome) == (2, 1, "partial")
    assert FollowSettings.objects.get(user=other_follower).last_sync_outcome == SyncOutcome.MASTER_UNAVAILABLE


def test_a_pause_and_a_resume_are_sent_through_apprise(
    settings, monkeypatch, django_capture_on_commit_callbacks, follower, follower_account, master_account, follow, trade
):
    from following import services
    from ops import alerts
    from tests.ops.conftest import AlertReceiver

    receiver = AlertReceiver()
    settings.ALERT_URLS = [receiver.url]
    alerts._local_claims.clear()
    try:
        follow(follower, follower_account, "0.1")
        trade(master_account, "BUY", "1.0")
        refuse(monkeypatch, follower_account, "INSUFFICIENT_BALANCE: needs 6500 USDT")
        with django_capture_on_commit_callbacks(execute=True):
            sync.follow_sync_cycle()
        with django_capture_on_commit_callbacks(execute=True):
            services.trade_error_resolve(user=follower, error_id=TradeError.objects.get().pk)
        titles = receiver.wait_for(2)
    finally:
        receiver.close()
    assert [t.split("] ", 1)[-1] for t in titles] == [
        "Copy trading paused for fred_follower",
        "Copy trading resumed for fred_follower",
    ]
    assert "INSUFFICIENT_BALANCE" in receiver.messages[0]["message"]


@pytest.mark.parametrize("how", ["off_by_hand", "paused_by_an_error"])
def test_a_follower_turned_off_after_the_cycle_read_it_gets_no_order(
    how, monkeypatch, follower, follower_account, master_account, follow, trade
):
    """With many followers the cycle's read of the settings is seconds old by the time it
    reaches the last one: an off (or a pause) that came in meanwhile still stops its order."""
    from following import selectors, services

    row = follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    read = selectors.followers_to_sync

    def read_then_turned_off():
        rows = read()
        if how == "off_by_hand":
            services.follow_settings_update(user=follower, is_active=False)
        else:
            services.trade_error_record(settings_id=row.pk, error_type="CONNECTOR", message="elsewhere")
        return rows

    monkeypatch.setattr(selectors, "followers_to_sync", read_then_turned_off)
    sync.follow_sync_cycle()
    assert not Order.objects.filter(follow_settings=row).exists() and positions(follower_account) == {}
    row.refresh_from_db()
    assert (row.last_sync_outcome, row.sync_fingerprint) == (SyncOutcome.PAUSED, "")
    monkeypatch.setattr(selectors, "followers_to_sync", read)
    if how == "off_by_hand":
        services.follow_settings_update(user=follower, is_active=True)
    else:
        services.trade_error_resolve(user=follower, error_id=TradeError.objects.get().pk)
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}


@pytest.mark.parametrize(
    ("master", "ratio", "lot", "expected"),
    [
        ("1.0", "0.1", "0.0001", "0.1"),
        ("2.0", "0.2", "0.0001", "0.4"),
        ("0.5", "0.3334", "0.001", "0.166"),  # 0.1667: down, never to the nearer 0.167
        ("0.9999", "0.1", "0.001", "0.099"),  # 0.09999
        ("-0.5", "0.3334", "0.001", "-0.166"),  # a short is rounded toward zero too
        ("0.00099", "1", "0.001", "0"),
    ],
)
def test_the_target_is_master_times_ratio_rounded_down_to_the_lot(master, ratio, lot, expected):
    assert sizing.target_qty(Decimal(master), Decimal(ratio), Decimal(lot)) == Decimal(expected)


def test_a_venue_whose_lot_sizes_cannot_be_read_gets_no_guessed_order_and_pauses_no_one(
    monkeypatch, follower, follower_account, master_account, follow, trade
):
    from executor.connectors.base import Instrument

    row = follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")

    def down(self):
        raise OSError("connection refused")

    monkeypatch.setattr(DryRunConnector, "instruments", down)
    run = sync.follow_sync_cycle()
    row.refresh_from_db()
    assert not Order.objects.filter(follow_settings=row).exists() and not TradeError.objects.exists()
    assert row.is_active and row.last_sync_outcome == SyncOutcome.VENUE_UNAVAILABLE
    assert run.outcome == "partial" and "lot sizes could not be read" in run.detail
    # Back up: a lot of 0.01 is learnt, then the venue fails again after the cache expired: the
    # last known lot is used, never the default's finer one.
    lots = {"BTC/USDT": Instrument("BTC/USDT", Decimal("0.01"), Decimal("0.01"))}
    monkeypatch.setattr(DryRunConnector, "instruments", lambda self: lots)
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}
    monkeypatch.setattr(follow_venue, "_INSTRUMENTS_TTL", 0.0)
    monkeypatch.setattr(DryRunConnector, "instruments", down)
    trade(master_account, "BUY", "0.55")  # target 0.155: 0.15 at the venue's lot
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.15")}


def test_a_deactivated_follower_account_is_never_traded_on(follower, follower_account, master_account, follow, trade):
    row = follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    follower_account.is_active = False
    follower_account.save()
    run = sync.follow_sync_cycle()
    row.refresh_from_db()
    assert not Order.objects.filter(follow_settings=row).exists() and positions(follower_account) == {}
    error = TradeError.objects.get()
    assert "deactivated" in error.error_message and not row.is_active and run.errors == 1


def test_a_deactivated_master_account_is_not_followed_and_pauses_no_one(
    follower, follower_account, master_account, follow, trade
):
    row = follow(follower, follower_account, "0.1")
    trade(master_account, "BUY", "1.0")
    master_account.is_active = False
    master_account.save()
    run = sync.follow_sync_cycle()
    row.refresh_from_db()
    assert not Order.objects.filter(follow_settings=row).exists() and not TradeError.objects.exists()
    assert row.is_active and row.last_sync_outcome == SyncOutcome.MASTER_UNAVAILABLE and "deactivated" in run.detail
    master_account.is_active = True
    master_account.save()
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}


def test_a_venue_outage_pausing_many_followers_alerts_once_but_each_balance_problem_alerts(
    settings, django_capture_on_commit_callbacks, follower, other_follower, make_account, follow
):
    """Issue 6: one outage must not send a message per follower; a follower's own problem does."""
    from following import services
    from ops import alerts
    from tests.ops.conftest import AlertReceiver

    receiver = AlertReceiver()
    settings.ALERT_URLS = [receiver.url]
    alerts._local_claims.clear()
    try:
        rows = [follow(user, make_account(user)) for user in (follower, other_follower)]
        with django_capture_on_commit_callbacks(execute=True):
            for row in rows:
                services.trade_error_record(settings_id=row.pk, error_type="CONNECTOR", message="venue unreachable")
        assert len(receiver.wait_for(1)) == 1
        for row in rows:  # resolved, then each runs out of money: two messages, one per follower
            for error in TradeError.objects.filter(user=row.user, is_resolved=False):
                services.trade_error_resolve(user=row.user, error_id=error.pk)
        with django_capture_on_commit_callbacks(execute=True):
            for row in rows:
                services.trade_error_record(
                    settings_id=row.pk, error_type="INSUFFICIENT_BALANCE", message="INSUFFICIENT_BALANCE: needs 6500"
                )
        paused = [t for t in receiver.wait_for(3) if "paused" in t]
    finally:
        receiver.close()
    assert len(paused) == 3, receiver.titles()
    outage, balance = receiver.messages[0]["message"], receiver.messages[-1]["message"]
    assert "CONNECTOR: venue unreachable" in outage and "not sent again" in outage
    assert "INSUFFICIENT_BALANCE: INSUFFICIENT_BALANCE" not in balance


def test_a_cycle_whose_worker_died_is_recorded_failed_by_the_next_cycle_once_its_lock_expired(settings):
    long_ago = timezone.now() - timedelta(seconds=settings.FOLLOW_SYNC_LOCK_SECONDS + 5)
    dead = SyncRun.objects.create(started_at=long_ago)
    recent = SyncRun.objects.create(started_at=timezone.now())
    sync.follow_sync_cycle()
    dead.refresh_from_db()
    recent.refresh_from_db()
    assert dead.outcome == SyncRun.Outcome.FAILED and "stopped before it finished" in dead.detail
    assert recent.outcome == SyncRun.Outcome.RUNNING  # its lock may still be held: left alone


def test_a_follower_evaluated_by_another_task_since_this_one_read_it_is_not_ordered_twice(
    follower, follower_account, master_account, follow, trade
):
    """Two syncs of one master overlap (the second queued by a poll while the first's batches
    still run): the second read a follower before the first's batch evaluated it, then took its
    lock after. Evaluated from that stale row, it copied the master's sale again: 17 of 999
    followers sold twice in a 2-worker bench round (the venue refused: no BTC left)."""
    trade(master_account, "BUY", "1")
    row = follow(follower, follower_account)
    sync.follow_sync_cycle()
    assert positions(follower_account) == {"BTC/USDT": Decimal("0.1")}
    trade(master_account, "SELL", "1")
    stale = sync.selectors.followers_to_sync(master_id=master_account.pk)  # the second sync's read
    snapshot = follow_venue.master_snapshot(master_account)
    sync.follow_sync_cycle()  # the first sync's batch: sells the follower's 0.1
    assert positions(follower_account) == {}
    outcomes = sync._run_jobs([[(stale[0], snapshot)]], {}, timezone.now())
    assert [outcome.orders for outcome in outcomes] == [0]
    assert Order.objects.filter(follow_settings=row, side="SELL").count() == 1
    assert positions(follower_account) == {}


def test_a_follower_paused_since_this_task_read_it_is_recorded_paused_without_a_venue_read(
    monkeypatch, follower, follower_account, master_account, follow, trade
):
    trade(master_account, "BUY", "1")
    row = follow(follower, follower_account)
    stale = sync.selectors.followers_to_sync(master_id=master_account.pk)
    snapshot = follow_venue.master_snapshot(master_account)
    sync.trade_error_record(settings_id=row.pk, error_type="CONNECTOR", message="paused meanwhile")
    reads = []
    monkeypatch.setattr(follow_venue, "read_positions", lambda account: reads.append(account) or [])
    outcomes = sync._run_jobs([[(stale[0], snapshot)]], {}, timezone.now())
    assert [(outcome.outcome, outcome.orders) for outcome in outcomes] == [(SyncOutcome.PAUSED, 0)]
    assert not Order.objects.filter(follow_settings=row).exists() and reads == []
    row.refresh_from_db()
    assert (row.last_sync_outcome, row.sync_fingerprint) == (SyncOutcome.PAUSED, "")
