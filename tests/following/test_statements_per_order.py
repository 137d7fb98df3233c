"""What one follower order costs the database, counted: the followers' notification choices are
read once per cycle, not once per copied order, and the slippage of a thread's orders is written
in one statement; each order still gets its own audit rows, CopyTrade and slippage."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from following import notify, sync
from following.models import CopyTrade, NotifyEvent
from orders.models import Fill, Order

pytestmark = pytest.mark.django_db


def _statements(captured, table: str, verb: str) -> int:
    # On PostgreSQL a prepared statement (tradedesk/db.py) is logged without its text (None).
    texts = [query["sql"] or "" for query in captured]
    return sum(1 for sql in texts if sql.startswith(verb) and f'"{table}"' in sql)


def test_a_cycle_of_three_copies_reads_notification_choices_once_and_writes_slippage_once(
    master_account, make_account, follow, trade, django_user_model, django_capture_on_commit_callbacks
):
    users = [django_user_model.objects.create_user(f"f{n}") for n in range(3)]
    rows = [follow(user, make_account(user)) for user in users]
    notify.notify_settings_update(user=users[0], apprise_url="json://localhost:9/", events=[NotifyEvent.COPIED_TRADE])
    trade(master_account, "BUY", "1.0")
    with CaptureQueriesContext(connection) as captured, django_capture_on_commit_callbacks() as callbacks:
        run = sync.follow_sync_cycle()
    assert run.orders_placed == 3
    assert _statements(captured, "following_followernotifysettings", "SELECT") == 1
    assert _statements(captured, "following_copytrade", "UPDATE") == 1
    copies = CopyTrade.objects.filter(follow_settings__in=rows).order_by("id")
    # The dry run fills a guarded limit at its limit, the master's price + the 0.5% default.
    assert [(copy.master_price, copy.slippage) for copy in copies] == [(Decimal("65000"), Decimal("0.005"))] * 3
    assert Order.history.filter(follow_settings__in=rows).count() == 6  # created, then its result
    # Only the follower who chose copied trades gets one: one notification task queued.
    assert len(callbacks) == 1


def test_a_copy_s_fill_is_recorded_without_reading_the_order_s_fills_first(
    master_account, make_account, follow, trade, django_user_model
):
    users = [django_user_model.objects.create_user(f"f{n}") for n in range(3)]
    rows = [follow(user, make_account(user)) for user in users]
    trade(master_account, "BUY", "1.0")
    with CaptureQueriesContext(connection) as captured:
        run = sync.follow_sync_cycle()
    assert run.orders_placed == 3
    # The order was in flight until this answer: it had no fill recorded, so none is looked up.
    assert _statements(captured, Fill._meta.db_table, "SELECT") == 0
    fills = Fill.objects.filter(order__follow_settings__in=rows)
    assert fills.count() == 3 and Fill.history.filter(order__follow_settings__in=rows).count() == 3


def test_outside_a_cycle_wants_reads_the_users_choice_as_before(follower):
    notify.notify_settings_update(user=follower, apprise_url="json://localhost:9/", events=[NotifyEvent.PAUSE])
    assert notify.wants(user_id=follower.pk, event=NotifyEvent.PAUSE)
    assert not notify.wants(user_id=follower.pk, event=NotifyEvent.COPIED_TRADE)
    with notify.wants_known(notify.wants_of(user_ids=[])):
        assert notify.wants(user_id=follower.pk, event=NotifyEvent.PAUSE)  # not one of the block's users
