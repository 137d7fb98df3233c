# ruff: noqa: F811  (fixtures imported from the paper browser tests)
"""Fills with fees from a browser venue's trade history (the profile's `trades:`): a resting
LIMIT on the paper site filled in two parts as the mark crosses it, recorded by the desk once each."""

from decimal import Decimal

import pytest

from executor.browser.connector import BrowserConnector
from executor.connectors.base import ResultStatus
from executor.paper.models import PaperOrder, PaperTrade
from executor.paper.services.prices import paper_liquidity_set, paper_price_set
from orders.lifecycle import order_refresh
from tests.executor.test_browser_executor import browser_dirs, desk_order, ticket, venue  # noqa: F401
from tests.executor.test_browser_pro import pro  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def paper_fills(client_order_id: str) -> list[tuple]:
    trades = PaperTrade.objects.filter(order__client_order_id=client_order_id).order_by("id")
    return [(t.trade_id, t.qty, t.price, t.fee, t.fee_asset) for t in trades]


def desk_fills(order) -> list[tuple]:
    return [(f.trade_id, f.qty, f.price, f.fee, f.fee_asset) for f in order.fills.order_by("time", "id")]


def test_the_connector_returns_each_fill_with_its_fee_as_the_venue_lists_it(venue):
    paper, account = venue
    connector = BrowserConnector(account.config())
    placed = ticket("td-fills-1")
    result = connector.place_order(placed)
    open_view = connector.get_order("td-fills-1", ticket=placed, exchange_order_id=result.exchange_order_id)
    assert (open_view.venue_state, open_view.fills) == ("OPEN", ())
    paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.006"))
    paper_price_set(symbol="BTC-USDT", price=Decimal("60000"))
    part = connector.get_order("td-fills-1", ticket=placed, exchange_order_id=result.exchange_order_id)
    assert (part.venue_state, part.filled_qty) == ("PARTIALLY_FILLED", Decimal("0.006"))
    assert [(f.trade_id, f.qty, f.price, f.fee, f.fee_asset) for f in part.fills] == paper_fills("td-fills-1")
    assert part.fills[0].time is not None
    paper_price_set(symbol="BTC-USDT", price=Decimal("60000"))
    done = connector.get_order("td-fills-1", ticket=placed, exchange_order_id=result.exchange_order_id)
    venue_fills = paper_fills("td-fills-1")
    assert len(venue_fills) == 2
    assert [(f.trade_id, f.qty, f.price, f.fee, f.fee_asset) for f in done.fills] == venue_fills
    assert done.venue_state == "FILLED"
    assert (done.fee, done.fee_asset) == (sum(f[3] for f in venue_fills), venue_fills[0][4])
    assert done.avg_price == PaperOrder.objects.get(client_order_id="td-fills-1").avg_price


def test_the_desk_records_the_browser_venues_fills_once_each_across_refreshes(venue, settings, queued_tasks):
    paper, account = venue
    order = desk_order(account, settings)
    assert order.status == "SUCCESS", (order.status, order.error_message)
    paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.004"))
    paper_price_set(symbol="BTC-USDT", price=Decimal("60000"))
    order = order_refresh(order_id=order.pk)
    assert (order.venue_state, order.filled_qty) == ("PARTIALLY_FILLED", Decimal("0.004"))
    assert desk_fills(order) == paper_fills(order.client_order_id)
    order = order_refresh(order_id=order.pk)  # still open: asked again, the same fill is not added twice
    assert desk_fills(order) == paper_fills(order.client_order_id) and order.fills.count() == 1
    paper_price_set(symbol="BTC-USDT", price=Decimal("60000"))
    paper_price_set(symbol="BTC-USDT", price=Decimal("60000"))
    order = order_refresh(order_id=order.pk)
    order = order_refresh(order_id=order.pk)  # (final already: nothing asked, nothing added)
    venue_fills = paper_fills(order.client_order_id)
    assert len(venue_fills) == 3
    assert desk_fills(order) == venue_fills
    assert order.venue_state == "FILLED" and order.filled_qty == Decimal("0.01")
    assert (order.fee, order.fee_asset) == (sum(f[3] for f in venue_fills), venue_fills[0][4])


def test_a_venue_with_no_trade_ids_gets_stable_fill_ids_from_its_rows(pro):
    from tests.executor.test_browser_pro import ticket as pro_ticket

    paper, account = pro
    connector = BrowserConnector(account.config())
    placed = pro_ticket("td-pro-fills")
    result = connector.place_order(placed)
    assert result.status == ResultStatus.SUCCESS, (result.error_code, result.error_message)
    paper_liquidity_set(symbol="BTC-USDT", liquidity=Decimal("0.006"))
    paper_price_set(symbol="BTC-USDT", price=Decimal("60000"))
    paper_price_set(symbol="BTC-USDT", price=Decimal("60000"))
    first = connector.get_order("td-pro-fills", ticket=placed, exchange_order_id=result.exchange_order_id)
    again = connector.get_order("td-pro-fills", ticket=placed, exchange_order_id=result.exchange_order_id)
    assert first.venue_state == "FILLED"
    venue_fills = PaperTrade.objects.filter(order_id=int(result.exchange_order_id)).order_by("id")
    assert [(f.qty, f.price, f.fee, f.fee_asset) for f in first.fills] == [
        (t.qty, t.price, t.fee, t.fee_asset) for t in venue_fills
    ]
    ids = [f.trade_id for f in first.fills]
    assert len(set(ids)) == 2 and ids == [f.trade_id for f in again.fills]  # a refresh reads the same ids


def test_a_market_order_filled_on_arrival_comes_back_with_its_fills_from_the_placement(pro):
    from tests.executor.test_browser_pro import ticket as pro_ticket

    paper, account = pro
    result = BrowserConnector(account.config()).place_order(pro_ticket("td-pro-mkt-fills", "MARKET", None, "SELL"))
    assert (result.status, result.venue_state) == (ResultStatus.SUCCESS, "FILLED"), result
    venue_fills = PaperTrade.objects.filter(order_id=int(result.exchange_order_id))
    assert [(f.qty, f.price, f.fee, f.fee_asset) for f in result.fills] == [
        (t.qty, t.price, t.fee, t.fee_asset) for t in venue_fills
    ]
    assert (result.filled_qty, result.avg_price) == (Decimal("0.01"), Decimal("65000"))
    assert result.fee == venue_fills[0].fee and result.fee_asset == venue_fills[0].fee_asset
