from datetime import timedelta

import pytest
from django.utils import timezone

from signals.models import Signal

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_staff_list_signals_newest_first(client_for, viewer, make_signal):
    older, newer = make_signal(), make_signal()
    response = client_for(viewer).get("/api/signals")
    assert response.status_code == 200
    assert ids(response) == [newer.pk, older.pk]


def test_signals_filter_by_status_symbol_and_strategy(client_for, viewer, make_signal):
    pending = make_signal()
    accepted = make_signal(status="ACCEPTED", symbol="ETH/USDT")
    make_signal(status="REJECTED", strategy_name="other")
    client = client_for(viewer)
    assert ids(client.get("/api/signals?status=PENDING")) == [pending.pk]
    assert set(ids(client.get("/api/signals?status=PENDING&status=ACCEPTED"))) == {pending.pk, accepted.pk}
    assert ids(client.get("/api/signals?symbol=eth-usdt")) == [accepted.pk]
    assert len(ids(client.get("/api/signals?strategy_name=other"))) == 1


def test_signals_filter_by_created_at_range(client_for, viewer, make_signal):
    old = make_signal()
    Signal.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    recent = make_signal()
    since = (timezone.now() - timedelta(days=1)).isoformat()
    client = client_for(viewer)
    assert ids(client.get("/api/signals", {"created_after": since})) == [recent.pk]
    assert ids(client.get("/api/signals", {"created_before": since})) == [old.pk]


def test_signals_are_paginated(client_for, viewer, make_signal):
    for _ in range(3):
        make_signal()
    body = client_for(viewer).get("/api/signals?limit=2").json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=NOPE", "status"), ("created_after=yesterday", "created_after"), ("symbol=BTCUSDT", "symbol")],
)
def test_bad_filters_get_400_naming_the_filter(client_for, viewer, query, field):
    response = client_for(viewer).get(f"/api/signals?{query}")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_a_strategy_key_sees_only_its_own_signals(strategy, other_strategy):
    mine = strategy.post_signal().json()["id"]
    theirs = other_strategy.post_signal().json()["id"]
    assert ids(strategy.client.get("/api/signals")) == [mine]
    assert strategy.client.get(f"/api/signals/{theirs}").status_code == 404
    assert strategy.client.get(f"/api/signals/{mine}").status_code == 200


def test_users_without_a_desk_role_cannot_read_signals(client_for, outsider, make_signal):
    signal = make_signal()
    assert client_for(outsider).get("/api/signals").status_code == 403
    assert client_for(outsider).get(f"/api/signals/{signal.pk}").status_code == 403


def test_anonymous_requests_are_refused(client_for, make_signal):
    signal = make_signal()
    assert client_for(None).get("/api/signals").status_code == 401
    assert client_for(None).get(f"/api/signals/{signal.pk}").status_code == 401
    assert client_for(None).patch(f"/api/signals/{signal.pk}", {"status": "ACCEPTED"}).status_code == 401


def test_a_missing_signal_is_404(client_for, viewer):
    response = client_for(viewer).get("/api/signals/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
