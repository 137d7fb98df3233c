"""Dry run: every order is FILLED at once, in one fill, at the requested or last known price.

It touches no venue. Its ledger lives in the process, so it remembers the orders this
process placed (enough for get_order after a re-delivered task in the same worker) and
positions derived from them.
"""

import itertools
import threading
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from executor.connectors.base import (
    Balance,
    Connector,
    ErrorCode,
    Fill,
    OrderResult,
    OrderTicket,
    Position,
    ResultStatus,
    VenueState,
)

_lock = threading.Lock()
_ledger: dict[str, OrderResult] = {}
_positions: dict[tuple[str, str], Decimal] = {}
_ids = itertools.count(1)


class DryRunConnector(Connector):
    name = "dry_run"

    def last_price(self, symbol: str) -> Decimal | None:
        return settings.DRY_RUN_PRICES.get(symbol.upper())

    def place_order(self, ticket: OrderTicket) -> OrderResult:
        with _lock:
            if ticket.client_order_id in _ledger:
                # Same answer as a venue that refuses a repeated client order id.
                return _ledger[ticket.client_order_id]
            price = ticket.price if ticket.order_type == "LIMIT" else None
            price = price or self.last_price(ticket.symbol) or ticket.reference_price
            if price is None:
                return OrderResult.failed(
                    ticket.client_order_id,
                    ErrorCode.NO_PRICE,
                    f"dry run has no price for {ticket.symbol}: send a LIMIT price or set DRY_RUN_PRICES",
                )
            exchange_order_id = f"dry-{next(_ids)}"
            result = OrderResult(
                ResultStatus.SUCCESS,
                ticket.client_order_id,
                exchange_order_id=exchange_order_id,
                filled_qty=ticket.qty,
                avg_price=price,
                venue_state=VenueState.FILLED,
                fee=Decimal("0"),
                fills=(Fill(f"{exchange_order_id}-1", ticket.qty, price, time=timezone.now()),),
                symbol=ticket.symbol,
            )
            _ledger[ticket.client_order_id] = result
            signed = ticket.qty if ticket.side == "BUY" else -ticket.qty
            key = (self.account.key, ticket.symbol)
            _positions[key] = _positions.get(key, Decimal("0")) + signed
            return result

    def get_order(self, client_order_id: str, *, ticket=None, exchange_order_id: str = "") -> OrderResult | None:
        with _lock:
            return _ledger.get(client_order_id)

    def cancel_order(self, client_order_id: str, *, ticket=None, exchange_order_id: str = "") -> OrderResult:
        # Every dry-run order filled at once: there is never anything left to cancel.
        with _lock:
            known = client_order_id in _ledger
        if not known:
            return OrderResult.failed(client_order_id, ErrorCode.NOT_FOUND_AT_VENUE, "the dry run has no such order")
        return OrderResult.failed(client_order_id, ErrorCode.ORDER_FINAL, "dry-run orders are FILLED at once")

    def open_orders(self, symbol: str | None = None) -> list[OrderResult]:
        return []

    def get_positions(self) -> list[Position]:
        with _lock:
            return [
                Position(symbol, qty)
                for (account, symbol), qty in sorted(_positions.items())
                if account == self.account.key and qty
            ]

    def get_balances(self) -> list[Balance]:
        return []
