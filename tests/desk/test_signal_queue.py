"""The signals page: the review queue, its filters, its live row endpoints, accept and reject."""

from datetime import timedelta

import pytest
from django.utils import timezone

from signals.models import Signal

pytestmark = pytest.mark.django_db


def test_the_queue_shows_pending_and_accepted_signals_only(page_for, viewer, make_signal):
    pending = make_signal()
    accepted = make_signal(status="ACCEPTED")
    gone = [make_signal(status=status) for status in ("REJECTED", "EXECUTED", "CANCELED")]
    html = page_for(viewer).get("/signals/").content.decode()
    assert f'id="signal-{pending.pk}"' in html and f'id="signal-{accepted.pk}"' in html
    for signal in gone:
        assert f'id="signal-{signal.pk}"' not in html


def test_the_queue_filters_by_status_symbol_and_strategy(page_for, viewer, make_signal):
    btc = make_signal(symbol="BTC/USDT", strategy_name="a")
    eth = make_signal(symbol="ETH/USDT", strategy_name="b")
    accepted = make_signal(status="ACCEPTED", symbol="ETH/USDT", strategy_name="a")
    client = page_for(viewer)

    def ids(query: str) -> set[int]:
        html = client.get(f"/signals/rows/?{query}").content.decode()
        return {s.pk for s in (btc, eth, accepted) if f'id="signal-{s.pk}"' in html}

    assert ids("") == {btc.pk, eth.pk, accepted.pk}
    assert ids("status=ACCEPTED") == {accepted.pk}
    assert ids("symbol=eth-usdt") == {eth.pk, accepted.pk}
    assert ids("strategy=a") == {btc.pk, accepted.pk}
    assert ids("symbol=ETH/USDT&strategy=a&status=PENDING") == set()


def test_a_bad_filter_is_a_400_naming_the_field(page_for, viewer):
    response = page_for(viewer).get("/signals/?symbol=not a symbol")
    assert response.status_code == 400
    assert b"symbol" in response.content and b"BASE/QUOTE" in response.content


def test_a_row_is_empty_once_the_signal_leaves_the_queue_or_the_filter(page_for, viewer, make_signal):
    signal = make_signal(symbol="BTC/USDT")
    client = page_for(viewer)
    assert f'id="signal-{signal.pk}"' in client.get(f"/signals/{signal.pk}/row/").content.decode()
    assert client.get(f"/signals/{signal.pk}/row/?symbol=ETH/USDT").content == b""
    Signal.objects.filter(pk=signal.pk).update(status="EXECUTED")
    assert client.get(f"/signals/{signal.pk}/row/").content == b""


def test_a_row_shows_age_time_left_and_the_last_order(page_for, viewer, make_signal, make_order, settings):
    settings.SIGNAL_MAX_AGE = 300
    signal = make_signal()
    Signal.objects.filter(pk=signal.pk).update(created_at=timezone.now() - timedelta(seconds=100))
    order = make_order(signal, status="FAILED", error_code="REJECTED")
    html = page_for(viewer).get(f"/signals/{signal.pk}/row/").content.decode()
    assert "data-deadline=" in html
    assert "3m 2" in html or "3m 1" in html  # about 200 s left
    assert f"#{order.pk} FAILED" in html


def test_a_trader_accepts_a_signal_and_gets_the_new_row(
    page_for, trader, make_signal, sent_events, django_capture_on_commit_callbacks
):
    signal = make_signal()
    with django_capture_on_commit_callbacks(execute=True):
        response = page_for(trader).post(f"/signals/{signal.pk}/accept/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "ACCEPTED" in response.content.decode()
    signal.refresh_from_db()
    assert (signal.status, signal.decided_by) == ("ACCEPTED", trader)
    assert ("signals", "signal_updated") in [(group, kind) for group, kind, _ in sent_events]
    assert signal.history.first().history_user == trader


def test_accepting_twice_is_refused_with_a_message(page_for, trader, make_signal):
    signal = make_signal(status="ACCEPTED")
    response = page_for(trader).post(f"/signals/{signal.pk}/accept/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#flash"
    assert "already ACCEPTED" in response.content.decode()


def test_reject_needs_a_reason(page_for, trader, make_signal):
    signal = make_signal()
    client = page_for(trader)
    assert 'name="reason"' in client.get(f"/signals/{signal.pk}/reject/").content.decode()
    response = client.post(f"/signals/{signal.pk}/reject/", {"reason": "   "})
    assert response.status_code == 422
    assert "Reason" in response.content.decode() and "required" in response.content.decode()
    assert Signal.objects.get(pk=signal.pk).status == "PENDING"


def test_a_trader_rejects_a_signal_with_a_reason(page_for, trader, make_signal):
    signal = make_signal()
    response = page_for(trader).post(f"/signals/{signal.pk}/reject/", {"reason": "spread too wide"})
    assert response.status_code == 200
    signal.refresh_from_db()
    assert (signal.status, signal.decision_note, signal.decided_by) == ("REJECTED", "spread too wide", trader)


def test_the_details_show_the_orders_and_the_audit_history(page_for, viewer, trader, make_signal, make_order):
    from signals import services

    signal = make_signal(reason="z-score below -2")
    services.signal_decide(signal_id=signal.pk, status="ACCEPTED", user=trader)
    order = make_order(signal, status="SUCCESS", exchange_order_id="X-1")
    html = page_for(viewer).get(f"/signals/{signal.pk}/").content.decode()
    assert "z-score below -2" in html
    assert f"#{order.pk}" in html
    assert trader.username in html and "accepted by" in html


def test_an_unknown_signal_is_a_404(page_for, trader):
    client = page_for(trader)
    assert client.get("/signals/999999/").status_code == 404
    assert client.get("/signals/999999/order/").status_code == 404
    assert client.post("/signals/999999/reject/", {"reason": "x"}).status_code == 404
    assert client.post("/signals/999999/accept/").status_code == 404


def test_the_filter_menus_show_the_filter_in_use_even_with_no_row_for_it(page_for, viewer, make_signal):
    make_signal(symbol="BTC/USDT", strategy_name="a")
    client = page_for(viewer)
    html = client.get("/signals/?symbol=xrp-usdt&strategy=gone_v1").content.decode()
    assert "<option selected>XRP/USDT</option>" in html
    assert "<option selected>gone_v1</option>" in html
    assert "<option >BTC/USDT</option>" in html
    orders = client.get("/orders/?symbol=xrp-usdt").content.decode()
    assert "<option selected>XRP/USDT</option>" in orders
