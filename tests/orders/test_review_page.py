"""The orders board: the needs-review list, resolving from the page, cancel and refresh buttons."""

# ruff: noqa: F811 (the scripted venue's fixtures are imported, then named as test arguments)

import pytest
from django.test import Client

from orders.models import Order
from tests.orders.lifecycle_venue import accepted, venue, venue_tasks  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def in_review(make_signal, make_order):
    order = make_order(make_signal(), status="UNKNOWN", needs_review=True, screenshot="")
    Order.objects.filter(pk=order.pk).update(error_message="2 matching rows in the open orders")
    return Order.objects.get(pk=order.pk)


def test_the_needs_review_filter_lists_only_orders_in_review_with_a_resolve_button(
    in_review, make_signal, make_order, trader
):
    plain_unknown = make_order(make_signal(), status="UNKNOWN")
    page = browser_for(trader).get("/orders/?status=NEEDS_REVIEW")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="order-{in_review.pk}"' in html and f'id="order-{plain_unknown.pk}"' not in html
    assert "NEEDS REVIEW" in html and f"/orders/{in_review.pk}/resolve/" in html


def test_a_trader_resolves_from_the_page_with_the_evidence_shown(in_review, trader):
    client = browser_for(trader)
    form = client.get(f"/orders/{in_review.pk}/resolve/", HTTP_HX_REQUEST="true")
    assert form.status_code == 200
    assert "2 matching rows in the open orders" in form.content.decode()
    refused = client.post(f"/orders/{in_review.pk}/resolve/", {"placed": "yes"})
    assert refused.status_code == 400 and "exchange_order_id" in refused.content.decode()
    done = client.post(f"/orders/{in_review.pk}/resolve/", {"placed": "yes", "exchange_order_id": "#8423"})
    assert done.status_code == 200 and "by tina_trader" in done.content.decode()
    in_review.refresh_from_db()
    assert (in_review.status, in_review.exchange_order_id, in_review.needs_review) == ("SUCCESS", "#8423", False)
    assert in_review.signal.status == "EXECUTED"


def test_not_placed_from_the_page_fails_the_order_and_frees_its_signal(in_review, trader):
    response = browser_for(trader).post(f"/orders/{in_review.pk}/resolve/", {"placed": "no", "note": "not there"})
    assert response.status_code == 200
    in_review.refresh_from_db()
    assert (in_review.status, in_review.error_code) == ("FAILED", "NOT_PLACED_REVIEWED")
    assert in_review.signal.status == "PENDING"


def test_viewers_see_no_order_actions_and_are_refused_them(in_review, accepted, viewer):
    open_order = accepted()
    client = browser_for(viewer)
    html = client.get("/orders/").content.decode()
    assert 'data-action="resolve"' not in html and 'data-action="cancel"' not in html
    for path in (f"/orders/{in_review.pk}/resolve/", f"/orders/{open_order.pk}/cancel/"):
        assert client.post(path, {"placed": "no"}).status_code == 403
    assert client.get(f"/orders/{in_review.pk}/resolve/").status_code == 403
    assert Order.objects.get(pk=in_review.pk).needs_review
    assert Order.objects.get(pk=open_order.pk).cancel_requested_at is None
    assert Client().post(f"/orders/{open_order.pk}/cancel/").status_code == 302  # to the login


def test_the_board_cancels_an_open_order_at_the_venue_behind_a_confirmation(
    accepted, venue_tasks, trader, django_capture_on_commit_callbacks
):
    order = accepted()
    client = browser_for(trader)
    board = client.get("/orders/").content.decode()
    assert f'hx-confirm="Cancel order #{order.pk} (BUY 1 BTC/USDT) at the venue?"' in board
    with django_capture_on_commit_callbacks(execute=True):
        row = client.post(f"/orders/{order.pk}/cancel/", HTTP_HX_REQUEST="true")
    assert row.status_code == 200 and "CANCEL_REQUESTED" in row.content.decode()
    assert 'data-action="cancel"' not in row.content.decode()  # asked once
    assert venue_tasks == [("cancel_at_venue", order.pk, "celery")]
    with django_capture_on_commit_callbacks(execute=True):
        refreshed = client.post(f"/orders/{order.pk}/refresh/", HTTP_HX_REQUEST="true")
    assert refreshed.status_code == 200 and venue_tasks[-1] == ("refresh_order", order.pk, "celery")


def test_a_refused_cancel_is_a_flash_message_naming_why(make_signal, make_order, trader):
    done = make_order(make_signal(), status="SUCCESS", venue_state="FILLED")
    response = browser_for(trader).post(f"/orders/{done.pk}/cancel/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert f"order {done.pk} is FILLED" in response.content.decode()
    assert response["HX-Retarget"] == "#flash"


def test_the_order_detail_lists_its_fills_and_fees(accepted, venue, viewer):
    from orders import lifecycle

    order = accepted()
    venue.fill(order.client_order_id, ("T1", "0.4", "65000", "2.6"))
    venue.set_state(order.client_order_id, "PARTIALLY_FILLED")
    lifecycle.order_refresh(order_id=order.pk)
    html = browser_for(viewer).get(f"/orders/{order.pk}/").content.decode()
    assert "PARTIALLY_FILLED" in html and "<code>T1</code>" in html
    assert "0.4 of 1 at an average 65,000" in html or "0.4 of 1 at an average 65000" in html
    assert "fees 2.6 USDT" in html
