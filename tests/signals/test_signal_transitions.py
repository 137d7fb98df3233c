import pytest

from signals.models import Signal

pytestmark = pytest.mark.django_db

LEGAL = [
    ("PENDING", "ACCEPTED"),
    ("PENDING", "REJECTED"),
    ("PENDING", "CANCELED"),
    ("ACCEPTED", "REJECTED"),
    ("ACCEPTED", "CANCELED"),
]
ILLEGAL = [
    ("ACCEPTED", "ACCEPTED"),
    ("PENDING", "PENDING"),
    *[
        (terminal, target)
        for terminal in ("REJECTED", "EXECUTED", "CANCELED")
        for target in ("ACCEPTED", "REJECTED", "CANCELED")
    ],
]


@pytest.mark.parametrize(("start", "target"), LEGAL)
def test_a_trader_makes_every_legal_decision(
    client_for, trader, make_signal, start, target, sent_events, django_capture_on_commit_callbacks
):
    signal = make_signal(status=start)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(trader).patch(
            f"/api/signals/{signal.pk}", {"status": target, "note": "why"}, format="json"
        )
    assert response.status_code == 200, response.json()
    signal.refresh_from_db()
    assert signal.status == target
    assert signal.decided_by == trader
    assert signal.decision_note == "why"
    assert sent_events[-1][:2] == ("signals", "signal_updated")
    assert sent_events[-1][2]["status"] == target


@pytest.mark.parametrize(("start", "target"), ILLEGAL)
def test_an_illegal_transition_gets_409_saying_why(client_for, trader, make_signal, start, target):
    signal = make_signal(status=start)
    response = client_for(trader).patch(f"/api/signals/{signal.pk}", {"status": target}, format="json")
    assert response.status_code == 409 if start != target or start != "PENDING" else 400
    body = response.json()
    if response.status_code == 409:
        assert body["code"] == "illegal_transition"
        assert start in body["message"]
    signal.refresh_from_db()
    assert signal.status == start


@pytest.mark.parametrize("target", ["EXECUTED", "PENDING", "bogus"])
def test_statuses_that_are_not_decisions_get_400(client_for, trader, make_signal, target):
    signal = make_signal()
    response = client_for(trader).patch(f"/api/signals/{signal.pk}", {"status": target}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()["fields"]


def test_a_signal_with_an_order_in_flight_cannot_be_rejected(client_for, trader, make_signal, make_order):
    signal = make_signal()
    make_order(signal)
    response = client_for(trader).patch(f"/api/signals/{signal.pk}", {"status": "REJECTED"}, format="json")
    assert response.status_code == 409
    assert "in flight" in response.json()["message"]
    assert Signal.objects.get(pk=signal.pk).status == "PENDING"


def test_a_viewer_cannot_decide(client_for, viewer, make_signal):
    signal = make_signal()
    response = client_for(viewer).patch(f"/api/signals/{signal.pk}", {"status": "ACCEPTED"}, format="json")
    assert response.status_code == 403
    assert Signal.objects.get(pk=signal.pk).status == "PENDING"


def test_a_strategy_cannot_decide_on_its_own_signal(strategy):
    signal_id = strategy.post_signal().json()["id"]
    response = strategy.client.patch(f"/api/signals/{signal_id}", {"status": "ACCEPTED"}, format="json")
    assert response.status_code in (401, 403)
    assert Signal.objects.get(pk=signal_id).status == "PENDING"


def test_deciding_on_a_missing_signal_is_404(client_for, trader):
    response = client_for(trader).patch("/api/signals/424242", {"status": "ACCEPTED"}, format="json")
    assert response.status_code == 404
