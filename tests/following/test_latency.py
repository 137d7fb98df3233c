"""Copy latency and the sync as tasks: a desk order accepted on a master account queues its
followers' sync at once (after commit); beat queues one task per master; a master with many
followers hands them out in batches that carry the master's positions."""

import threading
from decimal import Decimal

import pytest

from executor.connectors.base import OrderResult, ResultStatus
from following import dispatch, services, sync, tasks
from following import venue as follow_venue
from following.models import SyncRun
from orders import services as order_services
from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch) -> dict[str, list]:
    """The tasks queued (instead of sending them to a broker). Queued by name (a Celery
    signature), which calls the registered task's apply_async with its args and kwargs."""
    found: dict[str, list] = {"sync_master": [], "sync_follower_batch": []}
    for name in found:
        monkeypatch.setattr(
            getattr(tasks, name),
            "apply_async",
            lambda args, kwargs=None, queue=None, _n=name: found[_n].append((tuple(args), queue)),
        )
    return found


def test_a_desk_order_accepted_on_a_master_account_queues_its_followers_sync_after_commit(
    follower, follower_account, master_account, follow, make_order, make_signal, queued,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    follow(follower, follower_account)
    order = make_order(make_signal(), exchange_account=master_account)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        order_services.order_record_result(
            order_id=order.pk,
            result=OrderResult(ResultStatus.SUCCESS, order.client_order_id, exchange_order_id="venue-1"),
        )
    assert queued["sync_master"] == []  # not before the commit
    for callback in callbacks:
        callback()
    assert queued["sync_master"] == [((master_account.pk,), "celery")]


def test_an_order_on_an_account_nobody_follows_queues_nothing(
    trader, make_account, make_order, make_signal, queued, django_capture_on_commit_callbacks
):
    account = make_account(trader)
    order = make_order(make_signal(), exchange_account=account)
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_record_result(
            order_id=order.pk,
            result=OrderResult(ResultStatus.SUCCESS, order.client_order_id, exchange_order_id="venue-1"),
        )
    assert queued["sync_master"] == []


def test_beat_queues_one_sync_per_master_and_never_a_second_while_one_waits(
    settings, master, follower, other_follower, make_account, queued
):
    settings.FOLLOW_SYNC_PER_MASTER = True
    masters = [make_account(master, label=f"m{n}") for n in range(2)]
    for account, user in zip(masters, (follower, other_follower), strict=True):
        services.master_account_open(user=master, credential_id=account.pk)
        services.follow_settings_create(
            user=user, master_credential_id=account.pk, follower_credential_id=make_account(user).pk,
            follow_ratio=Decimal("0.1"),
        )  # fmt: skip
    tasks.sync_followers()
    tasks.sync_followers()
    assert sorted(args for args, _ in queued["sync_master"]) == [(masters[0].pk, True), (masters[1].pk, True)]
    # Once the task starts, a new change queues a new sync.
    dispatch.follow_sync_master(masters[0].pk)
    tasks.sync_followers()
    assert [args for args, _ in queued["sync_master"]].count((masters[0].pk, True)) == 2


def test_a_master_with_many_followers_hands_them_out_in_batches_each_ordered_once(
    settings, monkeypatch, master_account, make_account, follow, trade, queued, django_user_model
):
    settings.FOLLOW_SYNC_BATCH = 2
    users = [django_user_model.objects.create_user(f"f{n}") for n in range(5)]
    rows = [follow(user, make_account(user)) for user in users]
    trade(master_account, "BUY", "1.0")
    reads = []
    original = follow_venue.master_snapshot
    monkeypatch.setattr(follow_venue, "master_snapshot", lambda account: reads.append(account.pk) or original(account))

    run = dispatch.follow_sync_master(master_account.pk)
    assert run.orders_placed == 2
    assert "2 more batch(es)" in run.detail
    assert len(queued["sync_follower_batch"]) == 2
    for (payload, now), queue in queued["sync_follower_batch"]:
        assert queue == "celery"
        batch = tasks.sync_follower_batch.run(payload, now)
        assert batch is None
    assert reads == [master_account.pk]  # the batches use the positions the master's sync read
    orders = list(Order.objects.filter(follow_settings__in=rows).values_list("follow_settings_id", "qty"))
    assert sorted(orders) == sorted((row.pk, Decimal("0.1")) for row in rows)
    # The same batch run again (a redelivered task) orders nothing more.
    payload, now = queued["sync_follower_batch"][0][0]
    again = dispatch.follow_sync_batch(payload, now)
    assert again.orders_placed == 0
    assert Order.objects.filter(follow_settings__in=rows).count() == 5


def test_followers_already_in_sync_are_skipped_without_a_lock_a_thread_or_a_batch_task(
    settings, monkeypatch, master_account, make_account, follow, trade, queued, django_user_model
):
    """Beat's full sync of a master whose followers are all in sync (most of them, every two
    seconds): each follower took its lock in a thread, and the batches went to other tasks only to
    find nothing to do (2 s of a worker's time per 1,000 followers, bench/README)."""
    settings.FOLLOW_SYNC_BATCH = 2
    users = [django_user_model.objects.create_user(f"f{n}") for n in range(5)]
    rows = [follow(user, make_account(user)) for user in users]
    trade(master_account, "BUY", "1.0")
    dispatch.follow_sync_master(master_account.pk)
    for (payload, now), _ in queued["sync_follower_batch"]:
        tasks.sync_follower_batch.run(payload, now)
    queued["sync_follower_batch"].clear()
    locks = []
    original_add = sync.cache.add
    monkeypatch.setattr(sync.cache, "add", lambda key, *a, **k: locks.append(key) or original_add(key, *a, **k))
    evaluated = []
    original_group = sync._run_group
    monkeypatch.setattr(sync, "_run_group", lambda group, *a: evaluated.append(group) or original_group(group, *a))

    quiet = dispatch.follow_sync_master(master_account.pk)
    assert (quiet.followers_skipped, quiet.followers_synced, quiet.orders_placed) == (5, 0, 0)
    assert queued["sync_follower_batch"] == []
    assert [key for key in locks if key.startswith("following:follower:")] == []
    assert evaluated == []  # no thread's work either
    # A change still reaches every follower, in batches as before.
    trade(master_account, "BUY", "1.0")
    changed = dispatch.follow_sync_master(master_account.pk)
    for (payload, now), _ in queued["sync_follower_batch"]:
        tasks.sync_follower_batch.run(payload, now)
    assert changed.orders_placed == 2 and len(queued["sync_follower_batch"]) == 2
    assert Order.objects.filter(follow_settings__in=rows).count() == 10


@pytest.mark.parametrize(("split", "kept", "batches"), [(2, 2, [2]), (4, 1, [1, 1, 1]), (1, 4, [])])
def test_a_master_change_is_split_over_as_many_tasks_as_worker_processes_however_few_followers(
    settings, master_account, make_account, follow, trade, queued, django_user_model, split, kept, batches
):
    settings.FOLLOW_SYNC_BATCH, settings.FOLLOW_SYNC_SPLIT = 250, split
    users = [django_user_model.objects.create_user(f"f{n}") for n in range(4)]
    rows = [follow(user, make_account(user)) for user in users]
    trade(master_account, "BUY", "1.0")
    run = dispatch.follow_sync_master(master_account.pk)
    assert run.orders_placed == kept
    assert [len(payload["settings_ids"]) for (payload, _), _ in queued["sync_follower_batch"]] == batches
    for (payload, now), _ in queued["sync_follower_batch"]:
        tasks.sync_follower_batch.run(payload, now)
    orders = list(Order.objects.filter(follow_settings__in=rows).values_list("follow_settings_id", flat=True))
    assert sorted(orders) == sorted(row.pk for row in rows)  # each follower ordered once


def test_a_master_s_sync_reads_its_positions_while_the_database_answers_the_followers_read(
    monkeypatch, follower, follower_account, master_account, follow, trade, queued
):
    follow(follower, follower_account)
    trade(master_account, "BUY", "1.0")
    master_read, seen = threading.Event(), []
    original_read, original_followers = follow_venue.master_snapshot, sync.selectors.followers_to_sync

    def master_snapshot(account):
        master_read.set()
        return original_read(account)

    def followers_to_sync(**scope):
        # Waits (up to 5 s) for the master's read to start: only a read running beside it does.
        seen.append(master_read.wait(timeout=5))
        return original_followers(**scope)

    monkeypatch.setattr(follow_venue, "master_snapshot", master_snapshot)
    monkeypatch.setattr(sync.selectors, "followers_to_sync", followers_to_sync)
    run = dispatch.follow_sync_master(master_account.pk)
    assert seen == [True]
    assert run.orders_placed == 1


def test_without_per_master_tasks_beat_runs_one_cycle_of_everyone(
    settings, follower, follower_account, master_account, follow, trade, queued
):
    settings.FOLLOW_SYNC_PER_MASTER = False
    follow(follower, follower_account)
    trade(master_account, "BUY", "1.0")
    tasks.sync_followers()
    assert queued["sync_master"] == []
    assert Order.objects.filter(follow_settings__user=follower).count() == 1
    assert sync.selectors.sync_run_last().orders_placed == 1


def test_a_cycle_of_everyone_places_every_followers_order_itself_and_hands_out_no_batch(
    settings, master_account, make_account, follow, trade, queued, django_user_model
):
    # The bench's in-process cycle placed 250 of 1,000 orders: the master loop's variable made
    # a cycle of everyone look like one master's sync, which hands the rest out to other tasks.
    settings.FOLLOW_SYNC_BATCH = 2
    users = [django_user_model.objects.create_user(f"f{n}") for n in range(5)]
    rows = [follow(user, make_account(user)) for user in users]
    trade(master_account, "BUY", "1.0")
    run = sync.follow_sync_cycle()
    assert run.orders_placed == 5
    assert queued["sync_follower_batch"] == []
    assert Order.objects.filter(follow_settings__in=rows).count() == 5


def test_beats_poll_of_an_unchanged_master_is_one_position_read_and_a_change_syncs_at_once(
    monkeypatch, follower, follower_account, master_account, follow, trade, queued
):
    row = follow(follower, follower_account)
    trade(master_account, "BUY", "1.0")
    reads = []
    original = follow_venue.master_snapshot
    monkeypatch.setattr(follow_venue, "master_snapshot", lambda account: reads.append(account.pk) or original(account))
    first = dispatch.follow_sync_master(master_account.pk, poll=True)
    assert first.orders_placed == 1 and reads == [master_account.pk]  # the poll's read, used by the cycle
    runs = SyncRun.objects.count()
    assert dispatch.follow_sync_master(master_account.pk, poll=True) is None  # unchanged: no cycle
    assert SyncRun.objects.count() == runs and len(reads) == 2
    trade(master_account, "BUY", "1.0")
    changed = dispatch.follow_sync_master(master_account.pk, poll=True)
    assert changed.orders_placed == 1
    assert list(Order.objects.filter(follow_settings=row).values_list("qty", flat=True)) == [Decimal("0.1")] * 2


def test_an_unchanged_master_is_synced_in_full_again_once_its_last_full_sync_is_old(
    settings, monkeypatch, follower, follower_account, master_account, follow, trade, queued
):
    settings.FOLLOW_SYNC_EVERY = 0.25
    follow(follower, follower_account)
    trade(master_account, "BUY", "1.0")
    assert dispatch.follow_sync_master(master_account.pk, poll=True).orders_placed == 1
    clock = [dispatch.time.time()]
    monkeypatch.setattr(dispatch.time, "time", lambda: clock[0])
    assert dispatch.follow_sync_master(master_account.pk, poll=True) is None
    clock[0] += dispatch.FULL_SYNC_EVERY
    again = dispatch.follow_sync_master(master_account.pk, poll=True)
    assert again is not None and again.orders_placed == 0


def test_with_the_default_beat_every_poll_is_a_full_sync(
    settings, monkeypatch, follower, follower_account, master_account, follow, trade, queued
):
    settings.FOLLOW_SYNC_EVERY = 2.0
    follow(follower, follower_account)
    trade(master_account, "BUY", "1.0")
    assert dispatch.follow_sync_master(master_account.pk, poll=True).orders_placed == 1
    clock = [dispatch.time.time()]
    monkeypatch.setattr(dispatch.time, "time", lambda: clock[0])
    clock[0] += 1.9  # the next beat, a little less than its interval after this sync finished
    assert dispatch.follow_sync_master(master_account.pk, poll=True) is not None


def test_the_master_fill_price_of_an_accepted_desk_order_is_the_followers_guard_price_with_no_price_read(
    monkeypatch, follower, follower_account, master_account, follow, trade, make_order, make_signal, queued,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    row = follow(follower, follower_account, max_slippage=Decimal("0.01"))
    trade(master_account, "BUY", "1.0")
    order = make_order(make_signal(), exchange_account=master_account)
    with django_capture_on_commit_callbacks(execute=True):
        order_services.order_record_result(
            order_id=order.pk,
            result=OrderResult(
                ResultStatus.SUCCESS, order.client_order_id, exchange_order_id="venue-1",
                filled_qty=Decimal("1"), avg_price=Decimal("65100"), venue_state="FILLED",
            ),
        )  # fmt: skip
    assert queued["sync_master"] == [((master_account.pk, False, {"BTC/USDT": "65100"}), "celery")]
    price_reads = []
    monkeypatch.setattr(follow_venue, "last_price", lambda account, symbol: price_reads.append(symbol))
    (args, _), *_ = queued["sync_master"]
    tasks.sync_master.run(*args)
    copied = Order.objects.get(follow_settings=row)
    assert price_reads == []
    assert copied.copy_trade.master_price == Decimal("65100")
    assert copied.price == Decimal("65751")  # 65,100 + 1%: the guard copies the master's own fill


def test_batches_get_the_master_prices_its_sync_read_and_read_none_again(
    settings, monkeypatch, master_account, make_account, follow, trade, queued, django_user_model
):
    settings.FOLLOW_SYNC_BATCH = 2
    users = [django_user_model.objects.create_user(f"f{n}") for n in range(5)]
    rows = [follow(user, make_account(user)) for user in users]
    trade(master_account, "BUY", "1.0")
    price_reads = []
    original = follow_venue.last_price
    monkeypatch.setattr(
        follow_venue, "last_price", lambda account, symbol: price_reads.append(symbol) or original(account, symbol)
    )
    dispatch.follow_sync_master(master_account.pk)
    for (payload, now), _ in queued["sync_follower_batch"]:
        tasks.sync_follower_batch.run(payload, now)
    assert price_reads == ["BTC/USDT"]  # once, by the master's sync, for all three tasks
    assert Order.objects.filter(follow_settings__in=rows).count() == 5
