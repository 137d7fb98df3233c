"""Signal expiry: a PENDING signal older than SIGNAL_MAX_AGE is CANCELED, so it cannot be
confirmed by mistake, by beat or at the moment a trader acts on it."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from orders.models import Order
from signals.models import Signal
from signals.services import signal_deadline, signal_expire
from signals.tasks import expire_signals

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def five_minutes(settings):
    settings.SIGNAL_MAX_AGE = 300


def aged(signal: Signal, seconds: int) -> Signal:
    Signal.objects.filter(pk=signal.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))
    signal.refresh_from_db()
    return signal


def test_a_stale_pending_signal_is_canceled_with_an_audit_entry(make_signal, sent_events):
    stale = aged(make_signal(), 301)
    fresh = aged(make_signal(), 200)
    accepted = aged(make_signal(status="ACCEPTED"), 1000)
    assert signal_expire() == [stale.pk]
    stale.refresh_from_db()
    assert stale.status == "CANCELED" and "expired" in stale.decision_note
    assert stale.history.first().history_change_reason == "expired"
    assert Signal.objects.get(pk=fresh.pk).status == "PENDING"
    assert Signal.objects.get(pk=accepted.pk).status == "ACCEPTED"


def test_the_cancel_is_pushed_live_after_commit(make_signal, sent_events, django_capture_on_commit_callbacks):
    stale = aged(make_signal(), 400)
    with django_capture_on_commit_callbacks(execute=True):
        expire_signals()
    assert [(kind, data["id"], data["status"]) for _, kind, data in sent_events] == [
        ("signal_updated", stale.pk, "CANCELED")
    ]


def test_a_signal_with_an_order_in_flight_is_left_alone(make_signal, make_order):
    signal = aged(make_signal(), 400)
    make_order(signal, status="SUBMITTING")
    assert signal_expire() == []
    assert Signal.objects.get(pk=signal.pk).status == "PENDING"


def test_expiry_off_keeps_every_signal(make_signal, settings):
    settings.SIGNAL_MAX_AGE = 0
    signal = aged(make_signal(), 10_000)
    assert signal_expire() == [] and signal_deadline(signal) is None
    assert Signal.objects.get(pk=signal.pk).status == "PENDING"


def test_the_deadline_is_created_at_plus_the_max_age(make_signal):
    signal = make_signal()
    assert signal_deadline(signal) == signal.created_at + timedelta(seconds=300)
    assert signal_deadline(make_signal(status="ACCEPTED")) is None


def test_a_stale_signal_cannot_be_ordered_even_before_beat_runs(page_for, trader, make_signal):
    signal = aged(make_signal(), 301)
    client = page_for(trader)
    form = client.get(f"/signals/{signal.pk}/order/", HTTP_HX_REQUEST="true")
    assert form.status_code == 409 and "CANCELED" in form.content.decode()
    body = {"order_type": "LIMIT", "price": "65000", "qty": "0.5", "nonce": "n"}
    confirm = client.post(f"/signals/{signal.pk}/order/confirm/", body)
    assert confirm.status_code == 409 and "CANCELED" in confirm.content.decode()
    assert not Order.objects.exists()


def test_a_stale_signal_cannot_be_accepted(page_for, trader, make_signal):
    signal = aged(make_signal(), 301)
    response = page_for(trader).post(f"/signals/{signal.pk}/accept/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert Signal.objects.get(pk=signal.pk).status == "CANCELED"


def test_beat_runs_the_expiry():
    entry = django_settings.CELERY_BEAT_SCHEDULE["expire-signals"]
    assert entry["task"] == "signals.tasks.expire_signals"
    assert entry["schedule"] == django_settings.SIGNAL_EXPIRY_EVERY


def test_a_stale_signal_cannot_be_ordered_through_the_api_before_beat_runs(client_for, trader, make_signal):
    signal = aged(make_signal(), 301)
    body = {"signal_id": signal.pk, "order_type": "LIMIT", "price": "65000", "qty": "0.5"}
    response = client_for(trader).post("/api/orders", body, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "signal_not_orderable"
    assert Signal.objects.get(pk=signal.pk).status == "CANCELED"
    assert not Order.objects.exists()


def test_a_stale_signal_cannot_be_accepted_through_the_api(client_for, trader, make_signal):
    signal = aged(make_signal(), 301)
    response = client_for(trader).patch(f"/api/signals/{signal.pk}", {"status": "ACCEPTED"}, format="json")
    assert response.status_code == 409, response.content
    assert Signal.objects.get(pk=signal.pk).status == "CANCELED"


def test_a_fresh_signal_is_still_accepted_through_the_api(client_for, trader, make_signal):
    signal = aged(make_signal(), 299)
    response = client_for(trader).patch(f"/api/signals/{signal.pk}", {"status": "ACCEPTED"}, format="json")
    assert response.status_code == 200, response.content
