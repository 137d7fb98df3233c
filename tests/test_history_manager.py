"""The audit trail's history manager (tradedesk/history.py): its class is built once per model,
not on every audited save, and the history it writes and reads is simple-history's own."""

import pytest

from orders.models import Fill, Order

pytestmark = pytest.mark.django_db


def test_an_orders_history_manager_class_is_built_once_not_per_row(make_order, make_signal):
    first, second = make_order(make_signal()), make_order(make_signal())
    assert type(first.history) is type(second.history)
    assert type(Fill(order=first).history) is type(Fill(order=second).history)


def test_each_save_still_writes_its_audit_row_with_its_reason(make_order, make_signal):
    order = make_order(make_signal())
    order.status = "FAILED"
    order._change_reason = "venue result FAILED"
    order.save()
    rows = list(order.history.order_by("history_id").values_list("history_type", "status", "history_change_reason"))
    assert rows == [("+", "SUBMITTING", None), ("~", "FAILED", "venue result FAILED")]
    assert Order.history.filter(id=order.pk).count() == 2
