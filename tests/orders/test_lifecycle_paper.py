"""The desk follows and cancels orders at the bundled paper exchange through its JSON API."""

from decimal import Decimal

import pytest

from executor.models import ExchangeAccount
from executor.paper.models import PaperInstrument, PaperOrder
from executor.paper.services.accounts import paper_account_create
from executor.paper.services.prices import paper_price_set
from executor.services import exchange_account_save
from orders import lifecycle, services, tasks
from orders.models import Order
from signals import services as signal_services

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def desk_on_paper(live_server, settings, paper_instruments, trader, queued_tasks):
    paper_price_set(symbol="BTC-USDT", price=Decimal("65000"))
    paper, key = paper_account_create(
        username="desk-bot", password="paper-password-1", balances={"USDT": Decimal("100000"), "BTC": Decimal("1")}
    )
    settings.EXECUTOR = "exchange"
    settings.PAPER_API_TIMEOUT = 3.0
    exchange_account_save(
        account=ExchangeAccount(
            owner=trader,
            label="paper api",
            venue="paper",
            connector="api",
            base_url=f"{live_server.url}/paper",
            is_desk_default=True,
        ),
        secrets={"api_key": key},
    )
    return paper


def limit_buy(trader, price: str, qty: str = "0.1") -> Order:
    signal, _ = signal_services.signal_create(
        api_key=None, symbol="BTC/USDT", side="BUY", suggest_qty=Decimal(qty), strategy_name="t"
    )
    order = services.order_create(
        user=trader, signal_id=signal.pk, qty=Decimal(qty), order_type="LIMIT", price=Decimal(price)
    )
    services.order_place(order_id=order.pk)
    return Order.objects.get(pk=order.pk)


def test_a_resting_limit_is_followed_from_open_to_partly_filled_to_filled_with_the_venues_fills(desk_on_paper, trader):
    PaperInstrument.objects.filter(symbol="BTC-USDT").update(liquidity=Decimal("0.06"))
    order = limit_buy(trader, "64000")
    assert (order.status, order.venue_state, order.filled_qty) == ("SUCCESS", "OPEN", Decimal("0"))
    assert order.signal.status == "EXECUTED"

    paper_price_set(symbol="BTC-USDT", price=Decimal("63950"))
    order = lifecycle.order_refresh(order_id=order.pk)
    assert (order.venue_state, order.filled_qty) == ("PARTIALLY_FILLED", Decimal("0.06"))

    paper_price_set(symbol="BTC-USDT", price=Decimal("63950"))
    tasks.refresh_order(order.pk)
    order.refresh_from_db()
    venue = PaperOrder.objects.get(client_order_id=order.client_order_id)
    assert (order.venue_state, order.filled_qty, order.avg_fill_price) == ("FILLED", venue.qty, Decimal("64000"))
    assert (order.fee, order.fee_asset) == (venue.fee, "USDT")
    desk_fills = sorted(order.fills.values_list("trade_id", "qty", "price", "fee"))
    venue_fills = sorted((t.trade_id, t.qty, t.price, t.fee) for t in venue.trades.all())
    assert desk_fills == venue_fills
    assert len(desk_fills) == 2


def test_a_desk_cancel_of_an_open_order_ends_canceled_at_the_venue_and_on_the_desk(desk_on_paper, trader):
    order = limit_buy(trader, "60000")
    services.order_cancel(order_id=order.pk, user=trader)
    assert Order.objects.get(pk=order.pk).stage == "CANCEL_REQUESTED"
    tasks.cancel_at_venue(order.pk)
    order.refresh_from_db()
    assert (order.stage, order.filled_qty) == ("CANCELED", Decimal("0"))
    assert PaperOrder.objects.get(client_order_id=order.client_order_id).status == "CANCELED"


def test_a_desk_cancel_of_an_order_that_filled_meanwhile_ends_filled(desk_on_paper, trader):
    order = limit_buy(trader, "64000")
    services.order_cancel(order_id=order.pk, user=trader)
    paper_price_set(symbol="BTC-USDT", price=Decimal("63000"))  # fills before the cancel is sent
    tasks.cancel_at_venue(order.pk)
    order.refresh_from_db()
    assert (order.stage, order.filled_qty) == ("FILLED", Decimal("0.1"))
    assert PaperOrder.objects.get(client_order_id=order.client_order_id).status == "FILLED"


def test_a_cancel_whose_answer_is_lost_is_looked_up_at_the_venue(desk_on_paper, trader, monkeypatch):
    from executor.connectors.base import OrderResult
    from executor.connectors.paper_api import PaperApiConnector

    cancel = PaperApiConnector.cancel_order

    def canceled_but_answer_lost(self, client_order_id, **kwargs):
        cancel(self, client_order_id, **kwargs)  # the venue cancels it; the answer never arrives
        return OrderResult.unknown(client_order_id, "read timed out")

    monkeypatch.setattr(PaperApiConnector, "cancel_order", canceled_but_answer_lost)
    order = limit_buy(trader, "60000")
    services.order_cancel(order_id=order.pk, user=trader)
    tasks.cancel_at_venue(order.pk)
    order.refresh_from_db()
    assert order.stage == "CANCELED"
    assert PaperOrder.objects.get(client_order_id=order.client_order_id).status == "CANCELED"
