# ruff: noqa: F811  (fixtures imported from the paper browser tests)
"""The paper site through the browser after the placement: an order followed to its end,
canceled at the venue, a lost answer of an order never stored, and refusals before the browser."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from executor.browser.connector import BrowserConnector
from executor.browser.host import host
from executor.connectors.base import ErrorCode, OrderTicket, ResultStatus
from executor.paper.models import PaperOrder
from executor.paper.services.faults import paper_fault_set
from orders import services as order_services
from tests.executor.test_browser_executor import browser_dirs, desk_order, ticket, venue  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def drop_confirm_posts(connector: BrowserConnector) -> None:
    """The confirm's request never reaches the venue (the connection drops): nothing is stored."""

    def handle(route) -> None:
        if route.request.method == "POST" and "confirmed=1" in (route.request.post_data or ""):
            route.abort()
        else:
            route.continue_()

    host.call(connector.key, None, lambda session: session._context.route("**/trade/**", handle), timeout=10)


def test_a_resting_order_is_followed_and_canceled_at_the_venue(venue):
    paper, account = venue
    connector = BrowserConnector(account.config())
    placed = ticket("td-life-1")
    result = connector.place_order(placed)
    found = connector.get_order("td-life-1", ticket=placed, exchange_order_id=result.exchange_order_id)
    assert (found.status, found.venue_state, found.filled_qty) == (ResultStatus.SUCCESS, "OPEN", Decimal("0"))
    assert found.exchange_order_id == result.exchange_order_id
    canceled = connector.cancel_order("td-life-1", ticket=placed, exchange_order_id=result.exchange_order_id)
    assert canceled.venue_state == "CANCELED", canceled
    assert PaperOrder.objects.get(client_order_id="td-life-1").status == "CANCELED"
    again = connector.cancel_order("td-life-1", ticket=placed, exchange_order_id=result.exchange_order_id)
    assert again.venue_state == "CANCELED"  # no Cancel button any more: the venue's record answers


def test_a_market_order_is_followed_to_its_fill_price(venue):
    paper, account = venue
    connector = BrowserConnector(account.config())
    placed = ticket("td-life-mkt", "MARKET", None, side="SELL")
    connector.place_order(placed)
    found = connector.get_order("td-life-mkt", ticket=placed)
    assert (found.venue_state, found.filled_qty, found.avg_price) == ("FILLED", Decimal("0.01"), Decimal("65000"))


def test_a_lost_answer_of_an_order_never_stored_is_not_found_at_venue_after_the_grace_period(
    venue, settings, queued_tasks
):
    paper, account = venue
    connector = BrowserConnector(account.config())
    assert connector.place_order(ticket("td-life-warm")).status == ResultStatus.SUCCESS
    drop_confirm_posts(connector)
    order = desk_order(account, settings)
    assert order.status == "UNKNOWN", (order.status, order.error_message)
    later = timezone.now() + timedelta(seconds=settings.RECONCILE_GRACE_SECONDS + 1)
    order = order_services.order_reconcile(order_id=order.pk, now=later)
    assert (order.status, order.error_code) == ("FAILED", ErrorCode.NOT_FOUND_AT_VENUE)
    assert not PaperOrder.objects.filter(client_order_id=order.client_order_id).exists()


def test_a_previous_success_notice_never_answers_for_a_refused_order(venue):
    paper, account = venue
    connector = BrowserConnector(account.config())
    assert connector.place_order(ticket("td-notice-1")).status == ResultStatus.SUCCESS
    paper_fault_set(account=paper, kind="reject", value="INSUFFICIENT_BALANCE", once=True)
    result = connector.place_order(ticket("td-notice-2"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.REJECTED)
    assert result.exchange_order_id == ""


def test_an_unlisted_symbol_is_refused_before_any_browser(venue):
    paper, account = venue
    result = BrowserConnector(account.config()).place_order(
        OrderTicket(client_order_id="td-sym", symbol="DOGE/USDT", side="BUY", order_type="MARKET", qty=Decimal("1"))
    )
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.SYMBOL_NOT_FOUND)
    assert not host._browsers.running  # no Chromium was started for it
