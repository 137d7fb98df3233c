# ruff: noqa: F811  (fixtures imported from the paper browser tests)
"""The browser executor with a real Chromium against Paper Pro, a site built like a real
exchange's (no ids of ours, a toast for the venue's id, a paged history): found by fields."""

from decimal import Decimal
from pathlib import Path

import pytest

from executor.browser.connector import BrowserConnector
from executor.browser.host import host
from executor.browser.profile import BUILTIN_DIR
from executor.connectors.base import ErrorCode, OrderTicket, ResultStatus
from executor.models import ExchangeAccount
from executor.paper.models import PaperOrder
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.faults import paper_fault_set
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save
from tests.executor.test_browser_executor import browser_dirs, desk_order  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pro(live_server, browser_dirs, trader, paper_instruments, settings):
    """A paper account with money, and the desk's browser account for it on the pro site."""
    profiles = Path(settings.EXCHANGE_PROFILE_DIRS[0])
    text = (
        (BUILTIN_DIR / "pro.yaml")
        .read_text()
        .replace("step: 5, navigation: 15, result: 10", "step: 3, navigation: 15, result: 4")
    )
    (profiles / "pro.yaml").write_text(text)
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    paper, _ = paper_account_create(
        username="pro-bot", password="paper-password-1", balances={"USDT": Decimal("1000000"), "BTC": Decimal("5")}
    )
    account = ExchangeAccount(owner=trader, label="pro-browser", venue="pro", connector="browser")
    account.base_url = f"{live_server.url}/paper/pro"
    exchange_account_save(account=account, secrets={"web_username": "pro-bot", "web_password": "paper-password-1"})
    return paper, account


def ticket(client_order_id: str, order_type: str = "LIMIT", price: str | None = "60000", side: str = "BUY", qty="0.01"):
    return OrderTicket(
        client_order_id=client_order_id,
        symbol="BTC/USDT",
        side=side,
        order_type=order_type,
        qty=Decimal(qty),
        price=Decimal(price) if price else None,
    )


def venue_order(result) -> PaperOrder:
    return PaperOrder.objects.get(pk=int(result.exchange_order_id))


@pytest.mark.parametrize(
    ("order_type", "side", "price", "status"),
    [("LIMIT", "BUY", "60000", "NEW"), ("LIMIT", "SELL", "70000", "NEW"), ("MARKET", "BUY", None, "FILLED")],
)
def test_orders_are_placed_through_the_ticket_with_the_venues_own_id(pro, order_type, side, price, status):
    paper, account = pro
    connector = BrowserConnector(account.config())
    result = connector.place_order(ticket(f"td-pro-{order_type}-{side}", order_type, price, side))
    assert result.status == ResultStatus.SUCCESS, (result.error_code, result.error_message)
    placed = venue_order(result)
    assert (placed.account_id, placed.side, placed.order_type, placed.qty) == (
        paper.pk,
        side,
        order_type,
        Decimal("0.01"),
    )
    assert placed.status == status
    assert result.venue_state == {"NEW": "OPEN", "FILLED": "FILLED"}[status]  # from the submit's JSON answer
    assert connector.lookup_is_certain is False


def test_a_warm_session_places_the_next_orders_without_reloading_the_page(pro):
    paper, account = pro
    connector = BrowserConnector(account.config())
    assert connector.place_order(ticket("td-pro-warm-1")).status == ResultStatus.SUCCESS
    session = host.sessions()[connector.key]
    loads = []
    host.call(connector.key, None, lambda s: s.page.on("load", lambda _: loads.append(1)), timeout=10)
    second = connector.place_order(ticket("td-pro-warm-2", "MARKET", None, "SELL"))
    assert second.status == ResultStatus.SUCCESS, (second.error_code, second.error_message)
    assert loads == [] and session.page is host.sessions()[connector.key].page
    assert venue_order(second).side == "SELL"


def test_a_refusal_is_failed_with_the_venues_reason(pro):
    paper, account = pro
    connector = BrowserConnector(account.config())
    paper_fault_set(account=paper, kind="reject", value="INSUFFICIENT_BALANCE", once=True)
    result = connector.place_order(ticket("td-pro-reject"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.REJECTED), result
    assert "Insufficient balance" in result.error_message
    # The venue's own filter answers HTTP 400 with a message: the reason is the venue's.
    tiny = connector.place_order(ticket("td-pro-tiny", price="10", qty="0.0001"))
    assert (tiny.status, tiny.error_code) == (ResultStatus.FAILED, ErrorCode.REJECTED), tiny
    assert "BELOW_MIN_NOTIONAL" in tiny.error_message
    assert not PaperOrder.objects.filter(account=paper).exclude(status="REJECTED").exists()


def test_a_quantity_the_ticket_cuts_is_refused_before_anything_is_sent(pro):
    paper, account = pro
    # The amount field keeps 4 decimals as typed: 0.00015 would become an order for 0.0001.
    result = BrowserConnector(account.config()).place_order(ticket("td-pro-step", qty="0.00015"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.REJECTED), result
    assert "took 0.0001 for 0.00015" in result.error_message
    assert not PaperOrder.objects.filter(account=paper).exists()


def test_a_stale_toast_of_the_previous_order_never_makes_a_success(pro):
    paper, account = pro
    connector = BrowserConnector(account.config())
    first = connector.place_order(ticket("td-pro-stale-1"))
    assert first.status == ResultStatus.SUCCESS
    paper_fault_set(account=paper, kind="stale_toast")
    paper_fault_set(account=paper, kind="reject", value="INSUFFICIENT_BALANCE", once=True)
    second = connector.place_order(ticket("td-pro-stale-2"))
    assert second.status == ResultStatus.FAILED, second
    assert second.exchange_order_id == ""


def test_an_unknown_symbol_is_refused_fast_and_typed(pro):
    paper, account = pro
    result = BrowserConnector(account.config()).place_order(
        OrderTicket(client_order_id="td-pro-sym", symbol="DOGE/USDT", side="BUY", order_type="MARKET", qty=Decimal("1"))
    )
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.SYMBOL_NOT_FOUND)
    assert "DOGE/USDT" in result.error_message
    assert set(BrowserConnector(account.config()).instruments()) == {"BTC/USDT", "ETH/USDT"}


def test_a_lost_answer_with_the_order_stored_is_found_by_its_fields(pro, settings, queued_tasks):
    paper, account = pro
    connector = BrowserConnector(account.config())
    # An identical order placed before: in the snapshot, so never taken for the new one.
    earlier = connector.place_order(ticket("td-pro-earlier"))
    assert earlier.status == ResultStatus.SUCCESS
    paper_fault_set(account=paper, kind="lost_reply", value="1", once=True)
    order = desk_order(account, settings)
    assert order.status == "SUCCESS", (order.error_code, order.error_message)
    stored = PaperOrder.objects.filter(account=paper, qty=Decimal("0.01"), price=Decimal("60000"))
    assert stored.count() == 2
    assert order.exchange_order_id == str(stored.latest("pk").pk) != earlier.exchange_order_id


def test_a_lost_answer_with_the_order_not_stored_is_never_a_success(pro):
    paper, account = pro
    connector = BrowserConnector(account.config())
    assert connector.place_order(ticket("td-pro-before")).status == ResultStatus.SUCCESS
    # The request never reaches the venue (the connection drops): nothing is stored.
    host.call(connector.key, None, lambda s: s._context.route("**/api/order/place", lambda r: r.abort()), timeout=10)
    lost = ticket("td-pro-lost")
    result = connector.place_order(lost)
    assert result.status == ResultStatus.UNKNOWN, result
    assert connector.get_order("td-pro-lost", ticket=lost) is None  # not there: the desk waits, then a person
    assert PaperOrder.objects.filter(account=paper).count() == 1


def test_two_new_matching_orders_after_a_lost_answer_go_to_a_person_with_evidence(pro):
    paper, account = pro
    connector = BrowserConnector(account.config())
    paper_fault_set(account=paper, kind="lost_reply", value="1", once=True)
    lost = ticket("td-pro-twin")
    assert connector.place_order(lost).status == ResultStatus.UNKNOWN
    # Someone placed the same order by hand meanwhile: two new rows, which is ours?
    assert connector.place_order(ticket("td-pro-twin-by-hand")).status == ResultStatus.SUCCESS
    found = connector.get_order("td-pro-twin", ticket=lost)
    assert found.status == ResultStatus.UNKNOWN and found.needs_review, found
    assert Path(found.screenshot).is_file() and "2 new orders" in found.error_message


def test_an_expired_session_logs_in_again_and_the_order_goes_through(pro):
    paper, account = pro
    connector = BrowserConnector(account.config())
    assert connector.place_order(ticket("td-pro-exp-1")).status == ResultStatus.SUCCESS
    paper_fault_set(account=paper, kind="session_expired")
    result = connector.place_order(ticket("td-pro-exp-2", "MARKET", None))
    assert result.status == ResultStatus.SUCCESS, (result.error_code, result.error_message)
    assert PaperOrder.objects.filter(account=paper).count() == 2


def test_a_captcha_is_a_typed_error_and_nothing_is_placed(pro):
    paper, account = pro
    connector = BrowserConnector(account.config())
    assert connector.place_order(ticket("td-pro-cap-1")).status == ResultStatus.SUCCESS
    paper_fault_set(account=paper, kind="captcha")
    result = connector.place_order(ticket("td-pro-cap-2"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.CAPTCHA_REQUIRED), result
    assert PaperOrder.objects.filter(account=paper).count() == 1


def test_a_resting_order_is_followed_and_canceled_at_the_venue(pro):
    paper, account = pro
    connector = BrowserConnector(account.config())
    placed = ticket("td-pro-follow")
    result = connector.place_order(placed)
    found = connector.get_order("td-pro-follow", ticket=placed, exchange_order_id=result.exchange_order_id)
    assert (found.status, found.venue_state, found.filled_qty) == (ResultStatus.SUCCESS, "OPEN", Decimal("0"))
    canceled = connector.cancel_order("td-pro-follow", ticket=placed, exchange_order_id=result.exchange_order_id)
    assert canceled.venue_state == "CANCELED", canceled
    assert venue_order(result).status == "CANCELED"


def test_a_market_order_is_followed_to_its_fill_price(pro):
    paper, account = pro
    connector = BrowserConnector(account.config())
    placed = ticket("td-pro-mkt", "MARKET", None)
    result = connector.place_order(placed)
    found = connector.get_order("td-pro-mkt", ticket=placed, exchange_order_id=result.exchange_order_id)
    assert (found.venue_state, found.filled_qty, found.avg_price) == ("FILLED", Decimal("0.01"), Decimal("65000"))
