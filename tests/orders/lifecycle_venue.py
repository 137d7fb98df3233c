"""A scripted venue for the order-lifecycle tests: the test says what the venue holds and how it
answers; the desk's services ask it through the connector contract like any venue."""

from dataclasses import replace
from decimal import Decimal

import pytest

from executor.connectors.base import Connector, Fill, OrderResult, OrderTicket, ResultStatus
from orders import services, tasks
from orders.models import Order


class ScriptedVenue(Connector):
    name = "scripted"

    def __init__(self, account=None) -> None:
        super().__init__(account)
        self.orders: dict[str, OrderResult] = {}
        self.cancel_answer = None  # a callable(client_order_id) -> OrderResult, or None for the default
        self.down = False
        self.calls: list[str] = []

    def accept(self, ticket: OrderTicket, state: str = "OPEN") -> OrderResult:
        result = OrderResult(ResultStatus.SUCCESS, ticket.client_order_id, exchange_order_id="V-1", venue_state=state)
        self.orders[ticket.client_order_id] = result
        return result

    def fill(self, client_order_id: str, *fills: tuple[str, str, str, str]) -> None:
        """Add trades (trade id, qty, price, fee in USDT); the order's totals follow."""
        order = self.orders[client_order_id]
        new = order.fills + tuple(
            Fill(trade_id, Decimal(qty), Decimal(price), Decimal(fee), "USDT") for trade_id, qty, price, fee in fills
        )
        qty = sum(f.qty for f in new)
        self.orders[client_order_id] = replace(
            order,
            fills=new,
            filled_qty=qty,
            avg_price=sum(f.qty * f.price for f in new) / qty,
            fee=sum(f.fee for f in new),
            fee_asset="USDT",
        )

    def set_state(self, client_order_id: str, state: str) -> None:
        self.orders[client_order_id] = replace(self.orders[client_order_id], venue_state=state)

    def place_order(self, ticket: OrderTicket) -> OrderResult:
        self.calls.append(f"place {ticket.client_order_id}")
        return self.accept(ticket)

    def get_order(self, client_order_id, *, ticket=None, exchange_order_id=""):
        self.calls.append(f"get {client_order_id}")
        if self.down:
            raise ConnectionError("venue unreachable")
        return self.orders.get(client_order_id)

    def cancel_order(self, client_order_id, *, ticket=None, exchange_order_id=""):
        self.calls.append(f"cancel {client_order_id}")
        if self.cancel_answer is not None:
            return self.cancel_answer(client_order_id)
        order = self.orders[client_order_id]
        if order.venue_state in ("FILLED", "CANCELED"):
            return OrderResult.failed(client_order_id, "ORDER_FINAL", f"order is {order.venue_state}")
        self.set_state(client_order_id, "CANCELED")
        return self.orders[client_order_id]

    def get_positions(self):
        return []

    def get_balances(self):
        return []


@pytest.fixture
def venue(monkeypatch) -> ScriptedVenue:
    scripted = ScriptedVenue()
    monkeypatch.setattr(services, "connector_for", lambda account: scripted)
    return scripted


@pytest.fixture
def venue_tasks(monkeypatch) -> list[tuple[str, int, str]]:
    """Tasks queued for a venue, as (task, order id, queue), instead of going to a broker."""
    queued: list[tuple[str, int, str]] = []
    for name in ("refresh_order", "cancel_at_venue", "reconcile_order"):
        task = getattr(tasks, name)
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda args, kwargs=None, queue=None, _name=name, **kw: queued.append((_name, args[0], queue)),
        )
    return queued


@pytest.fixture
def accepted(make_signal, make_order, venue):
    """A LIMIT BUY 1 BTC/USDT @ 65000 the venue accepted and holds OPEN."""

    def make(**fields) -> Order:
        order = make_order(make_signal(), status="SUCCESS", venue_state="OPEN", exchange_order_id="V-1", **fields)
        venue.accept(services._ticket(order))
        return order

    return make
