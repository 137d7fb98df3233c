"""Needs review: an order no lookup can settle waits for a person, who says placed or not."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.utils import timezone

from executor.connectors import dry_run
from executor.connectors.base import OrderResult
from executor.models import ExchangeAccount
from executor.services import exchange_account_save
from orders import lifecycle, risk, services, tasks
from orders.models import Order
from signals.models import Signal
from tradedesk.exceptions import Conflict

pytestmark = pytest.mark.django_db


class FieldSearchedVenue(dry_run.DryRunConnector):
    """A venue searched by the order's own fields: "not found" there proves nothing."""

    lookup_is_certain = False
    answer: OrderResult | None = None

    def get_order(self, client_order_id, *, ticket=None, exchange_order_id=""):
        return self.answer


@pytest.fixture
def field_venue(monkeypatch) -> FieldSearchedVenue:
    venue = FieldSearchedVenue()
    monkeypatch.setattr(services, "connector_for", lambda account: venue)
    return venue


@pytest.fixture
def alerts(monkeypatch, settings) -> list[str]:
    """Alert titles sent (the notifier is the edge we do not own)."""
    from django.core.cache import cache

    from ops import alerts as ops_alerts

    cache.clear()
    settings.ALERT_URLS = ["json://alerts.invalid"]
    sent: list[str] = []
    monkeypatch.setattr(ops_alerts, "_notify", lambda **kw: sent.append(kw["title"]) or True)
    return sent


@pytest.fixture
def venue_tasks(monkeypatch) -> list[tuple[str, int, str]]:
    queued: list[tuple[str, int, str]] = []
    monkeypatch.setattr(
        tasks.refresh_order,
        "apply_async",
        lambda args, kwargs=None, queue=None, **kw: queued.append(("refresh_order", args[0], queue)),
    )
    return queued


def unknown_since(order: Order, seconds: int) -> Order:
    when = timezone.now() - timedelta(seconds=seconds)
    Order.objects.filter(pk=order.pk).update(status="UNKNOWN", placement_started_at=when, created_at=when)
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def in_review(make_signal, make_order):
    def make(**fields) -> Order:
        order = make_order(make_signal(), status="UNKNOWN", needs_review=True, **fields)
        order.error_message = "2 matching rows in the open orders"
        order.save()
        return order

    return make


def reasons(order: Order) -> list[str]:
    return [row.history_change_reason for row in order.history.order_by("history_date", "history_id")]


def test_a_lookup_that_asks_for_a_person_puts_the_order_in_review_once_with_one_alert(
    make_signal, make_order, field_venue, alerts, django_capture_on_commit_callbacks
):
    order = unknown_since(make_order(make_signal()), 5)
    field_venue.answer = OrderResult.unknown(order.client_order_id, "2 matching rows", needs_review=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_reconcile(order_id=order.pk)
        services.order_reconcile(order_id=order.pk)
    order.refresh_from_db()
    assert (order.status, order.needs_review) == ("UNKNOWN", True)
    assert alerts == [f"Order #{order.pk} needs review: was it placed on dry_run?"]
    assert reasons(order)[-1] == "needs review: the venue lookup cannot settle it"


def test_not_found_past_the_grace_period_goes_to_review_on_a_venue_searched_by_fields(
    make_signal, make_order, field_venue, settings, alerts, django_capture_on_commit_callbacks
):
    settings.RECONCILE_GRACE_SECONDS = 60
    order = unknown_since(make_order(make_signal()), 61)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_reconcile(order_id=order.pk)
    order.refresh_from_db()
    assert (order.status, order.needs_review, order.error_code) == ("UNKNOWN", True, "UNKNOWN_OUTCOME")
    assert "a person must say whether it was placed" in order.error_message
    assert len(alerts) == 1
    # The periodic reconciliation leaves it to the person: no more lookups.
    assert order.pk not in __import__("orders.selectors").selectors.order_ids_to_reconcile(stuck_before=timezone.now())


def test_not_found_past_the_grace_period_fails_on_a_venue_searched_by_our_id(make_signal, make_order, settings):
    settings.RECONCILE_GRACE_SECONDS = 60
    order = unknown_since(make_order(make_signal()), 61)
    services.order_reconcile(order_id=order.pk)  # the dry run: looked up by client order id
    order.refresh_from_db()
    assert (order.status, order.error_code, order.needs_review) == ("FAILED", "NOT_FOUND_AT_VENUE", False)


def test_an_order_in_review_blocks_its_signal_and_counts_toward_the_limits(in_review, trader):
    order = in_review(qty=Decimal("2"))
    with pytest.raises(Conflict, match="already has order"):
        services.order_create(user=trader, signal_id=order.signal_id, qty=Decimal("1"), order_type="MARKET")
    assert risk.daily_usage("BTC/USDT").daily_qty == Decimal("2")


def test_a_trader_resolves_placed_with_the_venue_id_and_the_signal_is_executed(
    in_review, client_for, trader, venue_tasks, django_capture_on_commit_callbacks, sent_events
):
    order = in_review()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(trader).post(
            f"/api/orders/{order.pk}/resolve",
            {"placed": True, "exchange_order_id": "#8423", "note": "seen in the history tab"},
            format="json",
        )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["exchange_order_id"], body["needs_review"]) == ("SUCCESS", "#8423", False)
    assert (body["reviewed_by"], body["review_note"]) == ("tina_trader", "seen in the history tab")
    order.refresh_from_db()
    assert order.signal.status == "EXECUTED"
    assert reasons(order)[-1] == "review by tina_trader: placed (venue id #8423)"
    assert venue_tasks == [("refresh_order", order.pk, "celery")]  # its venue state is read next
    assert [d["status"] for _, kind, d in sent_events if kind == "order_updated"] == ["SUCCESS"]


def test_a_trader_resolves_not_placed_and_the_signal_can_be_ordered_again(in_review, client_for, trader):
    order = in_review()
    response = client_for(trader).post(
        f"/api/orders/{order.pk}/resolve", {"placed": False, "exchange_order_id": ""}, format="json"
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.error_code, order.needs_review) == ("FAILED", "NOT_PLACED_REVIEWED", False)
    assert order.signal.status == "PENDING"
    assert reasons(order)[-1] == "review by tina_trader: not placed"
    assert risk.daily_usage("BTC/USDT").daily_qty == 0
    again = services.order_create(user=trader, signal_id=order.signal_id, qty=Decimal("1"), order_type="MARKET")
    assert again.status == "SUBMITTING"


def test_resolving_needs_a_trader_a_venue_id_when_placed_and_an_order_in_review(
    in_review, client_for, trader, viewer, make_signal, make_order
):
    order = in_review()
    url = f"/api/orders/{order.pk}/resolve"
    assert client_for(viewer).post(url, {"placed": False}, format="json").status_code == 403
    assert client_for(None).post(url, {"placed": False}, format="json").status_code in (401, 403)
    missing = client_for(trader).post(url, {"placed": True}, format="json")
    assert missing.status_code == 400 and "exchange_order_id" in missing.json()["fields"]
    assert client_for(trader).post(url, {}, format="json").json()["fields"].keys() == {"placed"}
    assert Order.objects.get(pk=order.pk).needs_review
    plain_unknown = make_order(make_signal(), status="UNKNOWN")
    response = client_for(trader).post(f"/api/orders/{plain_unknown.pk}/resolve", {"placed": False}, format="json")
    assert response.status_code == 409


def _follower_order() -> Order:
    from following import services as following
    from following.follower_orders import follower_order_create

    master = User.objects.create_user("mia_master", password="x" * 20)
    follower = User.objects.create_user("fred_follower", password="x" * 20)
    master_account = exchange_account_save(
        account=ExchangeAccount(owner=master, label="m", venue="paper", connector="dry_run"), secrets=None
    )
    own = exchange_account_save(
        account=ExchangeAccount(owner=follower, label="f", venue="paper", connector="dry_run"), secrets=None
    )
    following.master_account_open(user=master, credential_id=master_account.pk)
    row = following.follow_settings_create(
        user=follower,
        master_credential_id=master_account.pk,
        follower_credential_id=own.pk,
        follow_ratio=Decimal("0.1"),
    )
    order = follower_order_create(
        follow_settings_id=row.pk, user=follower, account=own, symbol="BTC/USDT", side="BUY", qty=Decimal("0.1")
    )
    Order.objects.filter(pk=order.pk).update(status="UNKNOWN", needs_review=True)
    return order


def test_a_follower_order_resolved_not_placed_pauses_the_follower_like_any_failed_follower_order(trader):
    from following.models import FollowSettings, TradeError

    order = _follower_order()
    lifecycle.order_resolve_review(order_id=order.pk, user=trader, placed=False, note="not in the history")
    settings_row = FollowSettings.objects.get(pk=order.follow_settings_id)
    assert not settings_row.is_active and settings_row.paused_by_error
    error = TradeError.objects.get(user=order.created_by)
    assert error.error_message == "not placed at the venue, per review by tina_trader: not in the history"
    assert error.error_details["error_code"] == "NOT_PLACED_REVIEWED"


def _admin_request(user, data: dict):
    from django.contrib.messages.storage.fallback import FallbackStorage

    request = RequestFactory().post("/admin/orders/order/", data)
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_the_admin_resolves_through_a_form_and_refuses_viewers(in_review, trader, viewer, venue_tasks):
    order = in_review()
    admin = site._registry[Order]
    selected = Order.objects.filter(pk=order.pk)
    assert admin.resolve_review(_admin_request(viewer, {"placed": "yes", "exchange_order_id": "V9"}), selected) is None
    assert Order.objects.get(pk=order.pk).needs_review
    page = admin.resolve_review(_admin_request(trader, {}), selected)
    assert page.status_code == 200 and b"Placed: the venue has it" in page.content
    refused = admin.resolve_review(_admin_request(trader, {"placed": "yes"}), selected)
    assert b"venue order id" in refused.content and Order.objects.get(pk=order.pk).needs_review
    assert admin.resolve_review(_admin_request(trader, {"placed": "yes", "exchange_order_id": "V9"}), selected) is None
    order.refresh_from_db()
    assert (order.status, order.exchange_order_id, order.reviewed_by) == ("SUCCESS", "V9", trader)
    assert Signal.objects.get(pk=order.signal_id).status == "EXECUTED"
