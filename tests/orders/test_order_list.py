from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_orders_filter_by_signal_status_symbol_and_date(client_for, viewer, make_signal, make_order):
    btc, eth = make_signal(), make_signal(symbol="ETH/USDT")
    first = make_order(btc, status="SUCCESS")
    second = make_order(eth, status="FAILED")
    Order.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=3))
    client = client_for(viewer)
    assert ids(client.get(f"/api/orders?signal_id={btc.pk}")) == [first.pk]
    assert ids(client.get("/api/orders?status=FAILED")) == [second.pk]
    assert ids(client.get("/api/orders?symbol=ETH/USDT")) == [second.pk]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(client.get("/api/orders", {"created_after": since})) == [second.pk]
    assert ids(client.get("/api/orders", {"created_before": since})) == [first.pk]


def test_one_order_can_be_read(client_for, viewer, make_signal, make_order):
    order = make_order(make_signal())
    body = client_for(viewer).get(f"/api/orders/{order.pk}").json()
    assert body["client_order_id"] == order.client_order_id
    assert client_for(viewer).get("/api/orders/987654").status_code == 404


def test_orders_are_hidden_from_users_without_a_desk_role(client_for, outsider, make_signal, make_order):
    order = make_order(make_signal())
    assert client_for(outsider).get("/api/orders").status_code == 403
    assert client_for(outsider).get(f"/api/orders/{order.pk}").status_code == 403
    assert client_for(None).get("/api/orders").status_code == 401


def test_bad_order_filters_get_400(client_for, viewer):
    response = client_for(viewer).get("/api/orders?signal_id=abc&status=MAYBE")
    assert response.status_code == 400
    assert {"signal_id", "status"} <= set(response.json()["fields"])
