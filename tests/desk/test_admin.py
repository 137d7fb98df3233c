"""Django admin: every model is there with filters and search; the actions go through the same
services as the desk pages; every row has its audit history."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin

from executor.models import ExchangeAccount
from following.models import FollowSettings
from orders.models import Order
from signals.models import Signal

pytestmark = pytest.mark.django_db

PROJECT_APPS = ["tradedesk", "signals", "orders", "following", "executor", "paper", "desk", "ops"]
SHOWN_AS_INLINES = {"paper.PaperBalance", "paper.PaperPosition"}  # inside each paper account


def test_every_model_of_the_project_has_an_admin():
    missing = {
        model._meta.label
        for label in PROJECT_APPS
        for model in apps.get_app_config(label).get_models()
        if not model.__name__.startswith("Historical") and not admin.site.is_registered(model)
    }
    assert missing <= SHOWN_AS_INLINES, missing - SHOWN_AS_INLINES
    assert admin.site.is_registered(apps.get_model("auth.User"))


def test_every_admin_list_opens_and_searches(page_for, desk_admin, make_signal, make_order):
    make_order(make_signal(), status="FAILED", error_code="REJECTED")
    client = page_for(desk_admin)
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url
        if model_admin.search_fields:
            assert client.get(url, {"q": "BTC"}).status_code == 200, url


def test_signal_and_order_rows_have_their_history(page_for, desk_admin, make_signal, make_order):
    signal = make_signal()
    order = make_order(signal)
    client = page_for(desk_admin)
    assert client.get(f"/admin/signals/signal/{signal.pk}/history/").status_code == 200
    assert client.get(f"/admin/orders/order/{order.pk}/history/").status_code == 200


def run_action(client, action: str, *signals: Signal, note: str = ""):
    body = {"action": action, "_selected_action": [s.pk for s in signals], "note": note}
    return client.post("/admin/signals/signal/", body, follow=True)


def test_admin_accepts_and_rejects_through_the_services(page_for, desk_admin, make_signal):
    first, second = make_signal(), make_signal()
    client = page_for(desk_admin)
    run_action(client, "accept", first)
    first.refresh_from_db()
    assert (first.status, first.decided_by) == ("ACCEPTED", desk_admin)
    refused = run_action(client, "reject", second)
    assert "Give a reason to reject" in refused.content.decode()
    assert Signal.objects.get(pk=second.pk).status == "PENDING"
    run_action(client, "reject", second, note="stale quote")
    second.refresh_from_db()
    assert (second.status, second.decision_note) == ("REJECTED", "stale quote")
    assert second.history.first().history_change_reason == f"rejected by {desk_admin.username}"


def test_admin_places_orders_at_the_suggestion_with_the_risk_checks(page_for, desk_admin, make_signal):
    ok = make_signal(suggest_price=Decimal("64000"), suggest_qty=Decimal("0.5"))
    too_big = make_signal(suggest_qty=Decimal("50"))
    response = run_action(page_for(desk_admin), "place", ok, too_big)
    order = Order.objects.get(signal=ok)
    assert (order.order_type, order.price, order.qty, order.created_by) == (
        "LIMIT",
        Decimal("64000"),
        Decimal("0.5"),
        desk_admin,
    )
    assert not Order.objects.filter(signal=too_big).exists()
    assert "over the per-order limit of 10" in response.content.decode()


def test_admin_cancels_an_order_not_yet_being_placed(page_for, desk_admin, make_signal, make_order):
    waiting = make_order(make_signal())
    body = {"action": "cancel", "_selected_action": [waiting.pk]}
    page_for(desk_admin).post("/admin/orders/order/", body, follow=True)
    assert Order.objects.get(pk=waiting.pk).status == "CANCELED"


def test_the_orders_list_filters_by_origin(page_for, desk_admin, trader, make_signal, make_order):
    master = ExchangeAccount.objects.create(owner=desk_admin, label="master", venue="paper", connector="api")
    own = ExchangeAccount.objects.create(owner=trader, label="own", venue="paper", connector="api")
    follow = FollowSettings.objects.create(
        user=trader, master_user=desk_admin, master_credential=master, follower_credential=own, follow_ratio="0.5"
    )
    desk_order = make_order(make_signal())
    copy_order = Order.objects.create(
        follow_settings=follow,
        symbol="ETH/USDT",
        side="BUY",
        order_type="MARKET",
        qty=Decimal("2"),
        venue="paper",
    )
    client = page_for(desk_admin)
    desk_list = client.get("/admin/orders/order/", {"origin": "desk"}).content.decode()
    assert f"/admin/orders/order/{desk_order.pk}/change/" in desk_list
    assert f"/admin/orders/order/{copy_order.pk}/change/" not in desk_list
    copy_list = client.get("/admin/orders/order/", {"origin": "copy"}).content.decode()
    assert f"/admin/orders/order/{copy_order.pk}/change/" in copy_list
    assert f"/admin/orders/order/{desk_order.pk}/change/" not in copy_list
    assert f"{trader} follows {desk_admin}" in copy_list
    found = client.get("/admin/orders/order/", {"q": trader.username}).content.decode()
    assert f"/admin/orders/order/{copy_order.pk}/change/" in found
