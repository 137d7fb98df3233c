"""The intake writes a signal's audit row itself (not through simple_history's post_save hook,
which cost a quarter of the intake's CPU): the same row the hook writes, once per signal."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from signals import services
from signals.models import Signal


def audit_rows(signal_id: int):
    return list(Signal.history.filter(id=signal_id).order_by("history_id"))


def assert_audited_as_posted(signal: Signal, key_name: str) -> None:
    rows = audit_rows(signal.pk)
    assert len(rows) == 1
    row = rows[0]
    assert (row.history_type, row.history_change_reason, row.history_user_id) == (
        "+",
        f"posted by API key {key_name}",
        None,
    )
    for field in Signal.history.model.tracked_fields:
        assert getattr(row, field.attname) == getattr(signal, field.attname), field.attname
    assert row.history_date >= signal.created_at


@pytest.mark.django_db
def test_a_posted_signal_has_one_audit_row_with_every_field_and_the_keys_name(strategy):
    response = strategy.post_signal(idempotency_key="audit-1", suggest_price="65000.5")
    assert response.status_code == 201
    assert_audited_as_posted(Signal.objects.get(pk=response.json()["id"]), strategy.api_key.name)


@pytest.mark.django_db
def test_a_retried_signal_adds_neither_a_row_nor_an_audit_row(strategy):
    first = strategy.post_signal(idempotency_key="audit-2").json()
    again = strategy.post_signal(idempotency_key="audit-2")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first
    assert Signal.objects.count() == 1
    assert len(audit_rows(first["id"])) == 1


@pytest.mark.django_db
def test_later_changes_of_a_posted_signal_are_audited_by_simple_history_as_before(strategy, trader):
    signal_id = strategy.post_signal().json()["id"]
    services.signal_decide(signal_id=signal_id, status="ACCEPTED", user=trader)
    rows = audit_rows(signal_id)
    assert [row.history_type for row in rows] == ["+", "~"]
    assert (rows[1].status, rows[1].history_change_reason) == ("ACCEPTED", f"accepted by {trader.username}")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_signal_and_its_audit_row_are_one_statement(strategy):
    with CaptureQueriesContext(connection) as queries:
        signal, created = services.signal_create(
            api_key=strategy.api_key,
            symbol="BTC/USDT",
            side="BUY",
            suggest_qty=1,
            strategy_name="s",
            client_signal_id="one-statement",
        )
    assert created
    assert len(queries) == 1, [query["sql"] for query in queries]
    assert_audited_as_posted(Signal.objects.get(pk=signal.pk), strategy.api_key.name)
    # A retry outside any transaction: the unique key refuses it, the original comes back.
    again, created = services.signal_create(
        api_key=strategy.api_key,
        symbol="BTC/USDT",
        side="BUY",
        suggest_qty=1,
        strategy_name="s",
        client_signal_id="one-statement",
    )
    assert (again.pk, created) == (signal.pk, False)
    assert Signal.objects.count() == 1
    assert len(audit_rows(signal.pk)) == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_retry_inside_a_transaction_leaves_it_usable(strategy):
    values = {
        "api_key": strategy.api_key,
        "symbol": "BTC/USDT",
        "side": "BUY",
        "suggest_qty": 1,
        "strategy_name": "s",
        "client_signal_id": "in-a-transaction",
    }
    with transaction.atomic():
        first, _ = services.signal_create(**values)
        again, created = services.signal_create(**values)
        assert (again.pk, created) == (first.pk, False)
        assert Signal.objects.filter(pk=first.pk).exists()  # the transaction was not aborted
    assert len(audit_rows(first.pk)) == 1
