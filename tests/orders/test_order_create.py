from decimal import Decimal

import pytest
from django.db import transaction

from orders import services
from orders.models import Order
from signals.models import Signal

pytestmark = pytest.mark.django_db


def confirm(client, signal, **overrides):
    body = {"signal_id": signal.pk, "qty": "0.5", "order_type": "LIMIT", "price": "65000", **overrides}
    return client.post("/api/orders", body, format="json")


def test_a_trader_confirms_a_signal_into_a_submitting_order(
    client_for, trader, make_signal, queued_tasks, sent_events, django_capture_on_commit_callbacks
):
    signal = make_signal()
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client_for(trader), signal, side="BUY")
    assert response.status_code == 201, response.json()
    body = response.json()
    order = Order.objects.get(pk=body["id"])
    assert body["status"] == order.status == "SUBMITTING"
    assert order.signal == signal
    assert order.created_by == trader
    assert order.client_order_id.startswith("td-")
    assert order.venue == "dry_run"
    assert order.qty == Decimal("0.5")
    assert queued_tasks == [order.pk]
    assert ("orders", "order_updated", body) in sent_events


def test_the_task_is_queued_only_after_commit(trader, make_signal, queued_tasks, django_capture_on_commit_callbacks):
    signal = make_signal()
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_create(user=trader, signal_id=signal.pk, qty=Decimal("1"), order_type="MARKET")
        assert queued_tasks == []
    assert queued_tasks == [order.pk]


def test_no_task_is_queued_for_a_rolled_back_order(trader, make_signal, queued_tasks, sent_events):
    signal = make_signal()

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        services.order_create(user=trader, signal_id=signal.pk, qty=Decimal("1"), order_type="MARKET")
        raise Abort
    assert queued_tasks == []
    assert sent_events == []
    assert not Order.objects.exists()


def test_a_market_order_uses_the_suggested_price_as_its_reference(client_for, trader, make_signal, queued_tasks):
    signal = make_signal(suggest_price=Decimal("64000"))
    response = confirm(client_for(trader), signal, order_type="MARKET", price=None)
    assert response.status_code == 201
    assert Decimal(response.json()["reference_price"]) == Decimal("64000")
    assert response.json()["price"] is None


def test_a_market_order_prefers_the_venues_last_price(client_for, trader, make_signal, queued_tasks, settings):
    settings.DRY_RUN_PRICES = {"BTC/USDT": Decimal("66000")}
    response = confirm(client_for(trader), make_signal(), order_type="MARKET", price=None)
    assert Decimal(response.json()["reference_price"]) == Decimal("66000")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"order_type": "LIMIT", "price": None}, "price"),
        ({"order_type": "MARKET", "price": "65000"}, "price"),
        ({"side": "SELL"}, "side"),
        ({"qty": "0"}, "qty"),
        ({"qty": "lots"}, "qty"),
        ({"order_type": "STOP"}, "order_type"),
        ({"price": "-5"}, "price"),
        ({"signal_id": "one"}, "signal_id"),
    ],
)
def test_bad_order_input_gets_400_naming_the_field(client_for, trader, make_signal, queued_tasks, overrides, field):
    response = confirm(client_for(trader), make_signal(), **overrides)
    assert response.status_code == 400, response.json()
    assert field in response.json()["fields"]
    assert not Order.objects.exists()
    assert queued_tasks == []


def test_a_missing_signal_is_404_naming_signal_id(client_for, trader, make_signal):
    response = client_for(trader).post(
        "/api/orders", {"signal_id": 99999, "qty": "1", "order_type": "MARKET"}, format="json"
    )
    assert response.status_code == 404
    assert "signal_id" in response.json()["fields"]


@pytest.mark.parametrize("status", ["REJECTED", "EXECUTED", "CANCELED"])
def test_only_pending_or_accepted_signals_can_be_ordered(client_for, trader, make_signal, status):
    response = confirm(client_for(trader), make_signal(status=status))
    assert response.status_code == 409
    assert response.json()["code"] == "signal_not_orderable"
    assert not Order.objects.exists()


def test_an_accepted_signal_can_be_ordered(client_for, trader, make_signal, queued_tasks):
    assert confirm(client_for(trader), make_signal(status="ACCEPTED")).status_code == 201


def test_a_second_confirm_of_the_same_signal_is_refused(
    client_for, trader, make_signal, queued_tasks, django_capture_on_commit_callbacks
):
    signal = make_signal()
    client = client_for(trader)
    with django_capture_on_commit_callbacks(execute=True):
        assert confirm(client, signal).status_code == 201
        second = confirm(client, signal)
    assert second.status_code == 409
    assert second.json()["code"] == "signal_already_ordered"
    assert Order.objects.count() == 1
    assert len(queued_tasks) == 1


def test_another_order_on_a_signal_needs_an_explicit_request(client_for, trader, make_signal, queued_tasks):
    signal = make_signal()
    client = client_for(trader)
    confirm(client, signal)
    extra = confirm(client, signal, allow_additional=True)
    assert extra.status_code == 201
    assert extra.json()["is_additional"] is True
    assert Order.objects.filter(signal=signal).count() == 2


def test_a_failed_order_does_not_block_a_new_one(client_for, trader, make_signal, make_order, queued_tasks):
    signal = make_signal()
    make_order(signal, status="FAILED")
    response = confirm(client_for(trader), signal)
    assert response.status_code == 201
    assert response.json()["is_additional"] is False


def test_viewers_outsiders_strategies_and_anonymous_users_cannot_order(
    client_for, viewer, outsider, strategy, make_signal
):
    signal = make_signal()
    assert confirm(client_for(viewer), signal).status_code == 403
    assert confirm(client_for(outsider), signal).status_code == 403
    assert confirm(strategy.client, signal).status_code in (401, 403)
    assert confirm(client_for(None), signal).status_code == 401
    assert not Order.objects.exists()
    assert Signal.objects.get(pk=signal.pk).status == "PENDING"


def test_an_admin_may_order(client_for, desk_admin, make_signal, queued_tasks):
    assert confirm(client_for(desk_admin), make_signal()).status_code == 201


def test_a_trader_can_use_a_bearer_token(make_signal, trader, queued_tasks):
    from io import StringIO

    from django.core.management import call_command
    from rest_framework.test import APIClient

    out = StringIO()
    call_command("create_user_token", trader.username, stdout=out, stderr=StringIO())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}")
    assert confirm(client, make_signal()).status_code == 201
    client.credentials(HTTP_AUTHORIZATION="Bearer wrong.token")
    assert client.get("/api/orders").status_code == 401
