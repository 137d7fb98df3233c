# ruff: noqa: F811 (the copy-trading fixtures are imported by name, then used as arguments)
"""What the page's toasts are made from: the follower-pause event desk staff receive, and the
order events that say whether the venue filled an order (the toasts themselves are Chromium
tests in test_notifications_browser.py)."""

import pytest

from following import services
from tests.following.conftest import (  # noqa: F401 (fixtures)
    clean_engine_state,
    follow,
    follower,
    follower_account,
    make_account,
    master,
    master_account,
)
from tradedesk import events

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_follower_paused_by_an_error_is_told_to_the_desk_once(
    sent_events, follower, follower_account, master_account, follow
):
    row = follow(follower, follower_account)
    error = services.trade_error_record(settings_id=row.pk, error_type="REJECTED", message="insufficient balance")
    services.trade_error_record(settings_id=row.pk, error_type="REJECTED", message="again")  # already paused
    paused = [(group, data) for group, kind, data in sent_events if kind == "follower_paused"]
    assert paused == [
        (
            events.ORDERS_GROUP,
            {
                "follow_settings_id": row.pk,
                "follower": follower.username,
                "trade_error_id": error.pk,
                "error_type": "REJECTED",
                "message": "insufficient balance",
            },
        )
    ]


def test_an_order_event_carries_the_venue_state_the_toast_reads(sent_events, make_signal, trader):
    from decimal import Decimal

    from orders import services as order_services

    signal = make_signal(suggest_price=Decimal("65000"))
    order = order_services.order_create(
        user=trader, signal_id=signal.pk, qty=Decimal("0.1"), order_type="LIMIT", price=Decimal("65000")
    )
    [(group, data)] = [(g, d) for g, kind, d in sent_events if kind == "order_updated" and d["id"] == order.pk][:1]
    assert group == events.ORDERS_GROUP and {"status", "venue_state", "needs_review"} <= set(data)
    assert data["venue_state"] != "FILLED"  # just confirmed: nothing is filled yet
