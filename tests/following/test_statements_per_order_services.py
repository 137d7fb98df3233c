"""On PostgreSQL, a copy's rows and their audit rows go in together (tradedesk/audited.py): no
statement writes an audit row of its own and none opens a savepoint, yet every row has its audit
row."""

import pytest
from django.db import connection, transaction
from django.utils import timezone

from following import sync
from following.models import FollowSettings
from orders.models import Fill, Order

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_cycle_of_three_copies_writes_each_row_with_its_audit_row_in_one_statement(
    real_services, master_account, make_account, follow, trade, django_user_model
):
    users = [django_user_model.objects.create_user(f"f{n}") for n in range(3)]
    rows = [follow(user, make_account(user)) for user in users]
    trade(master_account, "BUY", "1.0")
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)  # as sent (a prepared statement's text is not logged by Django)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run = sync.follow_sync_cycle()
    assert run.orders_placed == 3
    for model in (Order, Fill):
        audit = f'INSERT INTO "{model.history.model._meta.db_table}"'
        assert not [sql for sql in statements if sql.startswith(audit)], model
        together = [sql for sql in statements if sql.startswith("WITH new AS") and audit in sql]
        assert len(together) == (6 if model is Order else 3), model  # an order: created, then its result
    assert not [sql for sql in statements if sql.startswith("SAVEPOINT")]
    assert Order.history.filter(follow_settings__in=rows).count() == 6
    assert Fill.history.filter(order__follow_settings__in=rows).count() == 3
    assert [row.history_type for row in Order.history.filter(follow_settings=rows[0]).order_by("history_date")] == [
        "+",
        "~",
    ]
    # The follower's sync state, written by one prepared UPDATE per follower (following.sync).
    state = FollowSettings.objects.get(pk=rows[0].pk)
    assert state.last_sync_outcome and isinstance(state.last_sync_detail, dict) and state.last_sync_detail
    assert state.last_synced_at == state.last_checked_at is not None and state.sync_fingerprint


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_the_sync_state_commits_without_waiting_for_the_wal_and_only_its_own_transaction_does(
    real_services, follower, follower_account, follow
):
    row = follow(follower, follower_account)
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        sync._state_update(settings_id=row.pk, outcome="ok", detail={"a": 1}, fingerprint="f1", at=timezone.now())
    assert "set_config('synchronous_commit', 'off', true)" in statements[-1]
    assert _synchronous_commit() == "on"  # the connection's next transactions wait for the WAL as before
    assert FollowSettings.objects.get(pk=row.pk).sync_fingerprint == "f1"
    # Inside a caller's transaction the setting would outlive the statement: the plain UPDATE.
    with transaction.atomic(), connection.execute_wrapper(record):
        sync._state_update(settings_id=row.pk, outcome="ok", detail={"a": 2}, fingerprint="f2", at=timezone.now())
        assert "set_config" not in statements[-1]
        assert _synchronous_commit() == "on"
    assert FollowSettings.objects.get(pk=row.pk).sync_fingerprint == "f2"
