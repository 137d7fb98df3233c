# ruff: noqa: F811  (fixtures imported from the paper browser tests)
"""The fills of an order the submit's answer shows FILLED, read right after the placement on
Paper Pro: the trade history alone (it names the order) when its fills add up to the order."""

from decimal import Decimal

import pytest

from executor.browser.connector import BrowserConnector
from executor.browser.host import host
from executor.connectors.base import ResultStatus
from executor.paper.models import PaperTrade
from tests.executor.test_browser_executor import browser_dirs  # noqa: F401
from tests.executor.test_browser_pro import pro, ticket  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def _side_page_loads(connector: BrowserConnector) -> list[str]:
    """The URLs the session's second tab (order lists) loads from now on."""
    loads: list[str] = []

    def listen(session) -> None:
        page = session._list_page()
        page.on("framenavigated", lambda frame: frame == page.main_frame and loads.append(frame.url))

    host.call(connector.key, None, listen, timeout=10)
    return loads


def test_a_filled_answer_reads_only_the_trade_history_for_its_fills(pro):
    paper, account = pro
    connector = BrowserConnector(account.config())
    assert connector.place_order(ticket("td-pro-warm")).status == ResultStatus.SUCCESS
    loads = _side_page_loads(connector)
    result = connector.place_order(ticket("td-pro-filled", "MARKET", None, "SELL"))
    assert (result.status, result.venue_state) == (ResultStatus.SUCCESS, "FILLED"), result
    venue_fills = PaperTrade.objects.filter(order_id=int(result.exchange_order_id))
    assert [(f.qty, f.price, f.fee, f.fee_asset) for f in result.fills] == [
        (t.qty, t.price, t.fee, t.fee_asset) for t in venue_fills
    ]
    assert (result.filled_qty, result.avg_price) == (Decimal("0.01"), Decimal("65000"))
    # The snapshot before the submit reads the order history; after the answer, only the trades.
    assert [url.rpartition("?")[2] for url in loads] == ["tab=history", "tab=trades"]
