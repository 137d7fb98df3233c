"""The API connector against the paper exchange's JSON API on the live test server."""

from decimal import Decimal

import pytest

from executor.connectors import get_connector
from executor.connectors.base import AccountConfig, ErrorCode, OrderTicket, ResultStatus
from executor.paper.models import PaperOrder
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.faults import paper_fault_set
from executor.paper.services.prices import paper_price_set

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(live_server, settings, paper_instruments):
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    paper, key = paper_account_create(
        username="api-bot", password="paper-password-1", balances={"USDT": Decimal("100000"), "BTC": Decimal("1")}
    )
    settings.PAPER_API_TIMEOUT = 2.0
    config = AccountConfig(label="api", venue="paper", base_url=f"{live_server.url}/paper", secrets={"api_key": key})
    return paper, get_connector("api", config)


def ticket(client_order_id: str, **overrides) -> OrderTicket:
    values = {"symbol": "BTC/USDT", "side": "BUY", "order_type": "MARKET", "qty": Decimal("0.1"), "price": None}
    return OrderTicket(client_order_id=client_order_id, **{**values, **overrides})


def test_a_market_order_fills_through_the_api(api):
    paper, connector = api
    result = connector.place_order(ticket("td-api-1"))
    assert result.status == ResultStatus.SUCCESS
    assert result.avg_price == Decimal("65000") and result.filled_qty == Decimal("0.1")
    assert PaperOrder.objects.get(account=paper, client_order_id="td-api-1").order_id == result.exchange_order_id


def test_a_repeated_client_order_id_returns_the_first_order_and_places_nothing(api):
    paper, connector = api
    first = connector.place_order(ticket("td-api-2"))
    again = connector.place_order(ticket("td-api-2"))
    assert again.exchange_order_id == first.exchange_order_id
    assert PaperOrder.objects.filter(account=paper, client_order_id="td-api-2").count() == 1


def test_a_rejection_is_failed_with_the_venues_code(api):
    _, connector = api
    result = connector.place_order(ticket("td-api-3", qty=Decimal("100")))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.REJECTED)
    assert "INSUFFICIENT_BALANCE" in result.error_message


def test_orders_positions_balances_and_prices_are_read(api):
    _, connector = api
    connector.place_order(ticket("td-api-4"))
    assert connector.get_order("td-api-4").status == ResultStatus.SUCCESS
    assert connector.get_order("td-never-sent") is None
    assert {p.symbol: p.qty for p in connector.get_positions()}["BTC/USDT"] == Decimal("1.1")
    assert {b.asset for b in connector.get_balances()} >= {"USDT", "BTC"}
    assert connector.last_price("BTC/USDT") == Decimal("65000")


def test_a_lost_reply_is_unknown_and_the_lookup_finds_the_order(api):
    paper, connector = api
    paper_fault_set(account=paper, kind="lost_reply", value="4", once=True)
    result = connector.place_order(ticket("td-api-5"))
    assert result.status == ResultStatus.UNKNOWN
    assert connector.get_order("td-api-5").status == ResultStatus.SUCCESS


def test_a_wrong_key_fails_clearly(api, live_server):
    config = AccountConfig(label="x", venue="paper", base_url=f"{live_server.url}/paper", secrets={"api_key": "no.pe"})
    result = get_connector("api", config).place_order(ticket("td-api-6"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.CONNECTOR_ERROR)


def test_an_unreachable_venue_is_a_network_failure(settings):
    config = AccountConfig(label="x", venue="paper", base_url="http://127.0.0.1:9/paper", secrets={"api_key": "a.b"})
    result = get_connector("api", config).place_order(ticket("td-api-7"))
    assert (result.status, result.error_code) == (ResultStatus.FAILED, ErrorCode.NETWORK)


def test_the_periodic_reconciliation_settles_an_unknown_order_with_one_venue_order(api, trader, settings, queued_tasks):
    from executor.models import ExchangeAccount
    from executor.services import exchange_account_save
    from orders import services as order_services
    from orders import tasks
    from orders.models import Order
    from signals import services as signal_services

    paper, connector = api
    settings.EXECUTOR = "exchange"
    account = exchange_account_save(
        account=ExchangeAccount(
            owner=trader,
            label="paper api",
            venue="paper",
            connector="api",
            base_url=connector.account.base_url,
            is_desk_default=True,
        ),
        secrets={"api_key": connector.account.secrets["api_key"]},
    )
    signal, _ = signal_services.signal_create(
        api_key=None, symbol="BTC/USDT", side="BUY", suggest_qty=Decimal("0.1"), strategy_name="t"
    )
    order = order_services.order_create(user=trader, signal_id=signal.pk, qty=Decimal("0.1"), order_type="MARKET")
    assert order.exchange_account == account
    # The venue got the order but the desk never heard back (a crash between send and record).
    connector.place_order(ticket(order.client_order_id))
    Order.objects.filter(pk=order.pk).update(status="UNKNOWN", placement_started_at=order.created_at)
    tasks.reconcile_orders()
    order.refresh_from_db()
    assert order.status == "SUCCESS" and order.exchange_order_id
    assert PaperOrder.objects.filter(client_order_id=order.client_order_id).count() == 1


def _liquidity(qty: str | None) -> None:
    from executor.paper.models import PaperInstrument

    PaperInstrument.objects.filter(symbol="BTC-USDT").update(liquidity=Decimal(qty) if qty else None)


def test_a_resting_limit_is_open_then_partly_filled_then_filled_with_the_venues_fills_and_fees(api):
    paper, connector = api
    _liquidity("0.04")  # 0.04 BTC trades per mark: a 0.1 order fills in three parts
    placed = connector.place_order(ticket("td-life-1", order_type="LIMIT", price=Decimal("64000")))
    assert (placed.status, placed.venue_state, placed.fills) == (ResultStatus.SUCCESS, "OPEN", ())

    paper_price_set(symbol="BTC-USDT", price=Decimal("63900"))  # crosses: the first 0.04 fills
    part = connector.get_order("td-life-1")
    assert part.venue_state == "PARTIALLY_FILLED"
    assert part.filled_qty == Decimal("0.04") and len(part.fills) == 1

    paper_price_set(symbol="BTC-USDT", price=Decimal("63900"))
    paper_price_set(symbol="BTC-USDT", price=Decimal("63900"))
    done = connector.get_order("td-life-1")
    assert done.venue_state == "FILLED" and done.filled_qty == Decimal("0.1")
    venue = PaperOrder.objects.get(account=paper, client_order_id="td-life-1")
    trades = list(venue.trades.order_by("id"))
    fills = sorted(done.fills, key=lambda f: f.trade_id)
    assert [(f.trade_id, f.qty, f.price, f.fee) for f in fills] == [
        (str(t.trade_id), t.qty, t.price, t.fee) for t in trades
    ]
    assert [f.qty for f in fills] == [Decimal("0.04"), Decimal("0.04"), Decimal("0.02")]
    assert done.avg_price == Decimal("64000")  # a resting limit fills at its own price
    assert done.fee == sum(t.fee for t in trades) == venue.fee and done.fee > 0
    assert done.fee_asset == "USDT" and {f.fee_asset for f in done.fills} == {"USDT"}


def test_an_open_order_is_listed_and_canceled_at_the_venue(api):
    paper, connector = api
    connector.place_order(ticket("td-life-2", order_type="LIMIT", price=Decimal("60000")))
    assert [o.client_order_id for o in connector.open_orders("BTC/USDT")] == ["td-life-2"]
    assert connector.open_orders()[0].symbol == "BTC/USDT"
    canceled = connector.cancel_order("td-life-2")
    assert (canceled.status, canceled.venue_state) == (ResultStatus.SUCCESS, "CANCELED")
    assert PaperOrder.objects.get(account=paper, client_order_id="td-life-2").status == "CANCELED"
    assert connector.open_orders() == []


def test_a_cancel_after_the_order_filled_is_refused_as_final_and_the_lookup_says_filled(api):
    _, connector = api
    connector.place_order(ticket("td-life-3", order_type="LIMIT", price=Decimal("64000")))
    paper_price_set(symbol="BTC-USDT", price=Decimal("63000"))  # fills before the cancel arrives
    answer = connector.cancel_order("td-life-3")
    assert (answer.status, answer.error_code) == (ResultStatus.FAILED, ErrorCode.ORDER_FINAL)
    assert connector.get_order("td-life-3").venue_state == "FILLED"


def test_a_cancel_of_an_order_the_venue_does_not_have_says_so(api):
    _, connector = api
    answer = connector.cancel_order("td-never-placed")
    assert (answer.status, answer.error_code) == (ResultStatus.FAILED, ErrorCode.NOT_FOUND_AT_VENUE)


def test_the_dry_run_fills_at_once_in_one_fill_and_has_nothing_to_cancel():
    from executor.connectors.dry_run import DryRunConnector

    connector = DryRunConnector()
    result = connector.place_order(ticket("td-dry-life-1", order_type="LIMIT", price=Decimal("65000")))
    assert (result.venue_state, result.filled_qty, result.avg_price) == ("FILLED", Decimal("0.1"), Decimal("65000"))
    assert [(f.qty, f.price) for f in result.fills] == [(Decimal("0.1"), Decimal("65000"))]
    assert connector.get_order("td-dry-life-1").fills == result.fills
    assert connector.cancel_order("td-dry-life-1").error_code == ErrorCode.ORDER_FINAL
    assert connector.cancel_order("td-dry-never").error_code == ErrorCode.NOT_FOUND_AT_VENUE
    assert connector.open_orders() == []
