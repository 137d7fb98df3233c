"""tradedesk.audited.save_audited on PostgreSQL: the row and its audit row in one statement, the
same rows as `save()` and simple-history's hook write."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from simple_history.models import HistoricalRecords

from orders.models import Fill, Order
from tradedesk.audited import save_audited

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# Differ between any two rows by nature: ids, the client order id, the times of the saves.
UNIQUE = {"id", "history_id", "client_order_id", "created_at", "updated_at", "history_date", "order_id"}


def new_order(user, **fields) -> Order:
    values = {"symbol": "BTC/USDT", "side": "BUY", "order_type": "MARKET", "qty": Decimal("0.5"), "venue": "dry_run"}
    return Order(created_by=user, **{**values, **fields})


def audit_rows(model, pk) -> list[dict]:
    rows = model.history.filter(id=pk).order_by("history_date").values()
    return [{k: v for k, v in row.items() if k not in UNIQUE} for row in rows]


def test_a_new_row_and_its_changes_are_audited_as_save_audits_them(real_services, trader):
    assert connection.vendor == "postgresql"
    by_save, by_statement = new_order(trader), new_order(trader)
    by_save._change_reason = "copy trading for tina"
    by_save.save()
    with CaptureQueriesContext(connection) as queries:
        save_audited(by_statement, reason="copy trading for tina")
    assert len(queries) == 1 and by_statement.pk is not None and not by_statement._state.adding
    for order in (by_save, by_statement):
        order.status, order.exchange_order_id, order.filled_qty = "SUCCESS", "x-1", Decimal("0.5")
    by_save._change_reason = "venue result SUCCESS"
    by_save.save()
    before = Order.objects.get(pk=by_statement.pk).updated_at
    save_audited(by_statement, reason="venue result SUCCESS")
    assert audit_rows(Order, by_statement.pk) == audit_rows(Order, by_save.pk)
    assert [row["history_type"] for row in audit_rows(Order, by_statement.pk)] == ["+", "~"]
    stored = Order.objects.get(pk=by_statement.pk)
    assert (stored.status, stored.exchange_order_id, stored.filled_qty) == ("SUCCESS", "x-1", Decimal("0.5"))
    assert stored.updated_at > before  # auto_now, as on save()


def test_a_fill_is_audited_and_a_refused_row_leaves_no_audit_row(real_services, trader):
    order = new_order(trader)
    save_audited(order, reason="placed")
    fill = Fill(order=order, trade_id="t-1", qty=Decimal("0.5"), price=Decimal("65000"), time=order.created_at)
    save_audited(fill, reason="seen at the venue")
    twin = Fill(order=order, trade_id="t-1", qty=Decimal("0.5"), price=Decimal("65000"), time=order.created_at)
    with pytest.raises(IntegrityError):
        save_audited(twin, reason="seen at the venue")
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            save_audited(twin, reason="seen at the venue")
        assert connection.needs_rollback  # as after a refused save(): the transaction is lost
    assert Fill.objects.filter(order=order).count() == 1
    assert Fill.history.filter(order_id=order.pk).count() == 1
    assert Fill.history.get(order_id=order.pk).history_change_reason == "seen at the venue"


def test_the_audit_row_names_the_signed_in_person_whose_request_saves(real_services, trader, monkeypatch):
    monkeypatch.setattr(HistoricalRecords.context, "request", SimpleNamespace(user=trader), raising=False)
    order = new_order(trader)
    save_audited(order, reason="confirmed")
    assert Order.history.get(id=order.pk).history_user_id == trader.pk
