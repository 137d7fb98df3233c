"""Every create and change of signals, orders and limits leaves who, when, old and new values."""

from decimal import Decimal

import pytest

from orders import tasks
from orders.models import RiskLimit
from signals.models import Signal

pytestmark = pytest.mark.django_db


def test_a_signal_decision_is_audited_with_old_and_new_values(client_for, trader, strategy):
    signal_id = strategy.post_signal().json()["id"]
    client_for(trader).patch(f"/api/signals/{signal_id}", {"status": "ACCEPTED"}, format="json")
    created, changed = Signal.history.filter(id=signal_id).order_by("history_date")
    assert created.history_type == "+"
    assert created.history_change_reason == f"posted by API key {strategy.api_key.name}"
    assert changed.history_user == trader
    assert changed.history_date is not None
    delta = changed.diff_against(created)
    status_change = next(change for change in delta.changes if change.field == "status")
    assert (status_change.old, status_change.new) == ("PENDING", "ACCEPTED")


def test_an_order_life_is_audited_from_confirm_to_result(client_for, trader, make_signal, queued_tasks):
    signal = make_signal()
    body = {"signal_id": signal.pk, "qty": "1", "order_type": "LIMIT", "price": "100"}
    order_id = client_for(trader).post("/api/orders", body, format="json").json()["id"]
    tasks.place_order(order_id)
    from orders.models import Order

    records = list(Order.history.filter(id=order_id).order_by("history_date"))
    assert [record.history_change_reason for record in records] == [
        f"confirmed by {trader.username}",
        "placement started",
        "venue result SUCCESS",
    ]
    assert records[0].history_user == trader
    delta = records[-1].diff_against(records[-2])
    status_change = next(change for change in delta.changes if change.field == "status")
    assert (status_change.old, status_change.new) == ("SUBMITTING", "SUCCESS")
    signal_records = Signal.history.filter(id=signal.pk).order_by("history_date")
    assert signal_records.last().status == "EXECUTED"
    assert signal_records.last().history_change_reason == "order accepted by the venue"


def test_risk_limit_changes_are_audited(desk_admin, client):
    client.force_login(desk_admin)
    response = client.post(
        "/admin/orders/risklimit/add/",
        {"symbol": "btc-usdt", "max_order_qty": "3", "max_daily_qty": "", "max_daily_notional": ""},
    )
    assert response.status_code == 302
    limit = RiskLimit.objects.get()
    assert limit.symbol == "BTC/USDT"
    limit_id = limit.pk
    client.post(
        f"/admin/orders/risklimit/{limit_id}/change/",
        {"symbol": "BTC/USDT", "max_order_qty": "4", "max_daily_qty": "", "max_daily_notional": ""},
    )
    latest = RiskLimit.history.filter(id=limit_id).order_by("history_date").last()
    assert latest.history_user == desk_admin
    assert latest.max_order_qty == Decimal("4")
    change = next(c for c in latest.diff_against(latest.prev_record).changes if c.field == "max_order_qty")
    assert (change.old, change.new) == (Decimal("3"), Decimal("4"))


def test_admin_shows_the_history_of_a_signal(desk_admin, client, make_signal):
    signal = make_signal()
    client.force_login(desk_admin)
    response = client.get(f"/admin/signals/signal/{signal.pk}/history/")
    assert response.status_code == 200
    assert b"Created" in response.content or b"created" in response.content


def test_admin_accept_action_goes_through_the_service(desk_admin, client, make_signal):
    signal, executed = make_signal(), make_signal(status="EXECUTED")
    client.force_login(desk_admin)
    client.post(
        "/admin/signals/signal/",
        {"action": "accept", "_selected_action": [signal.pk, executed.pk]},
        follow=True,
    )
    assert Signal.objects.get(pk=signal.pk).status == "ACCEPTED"
    assert Signal.objects.get(pk=executed.pk).status == "EXECUTED"
    assert Signal.history.filter(id=signal.pk).order_by("history_date").last().history_user == desk_admin
