"""The paper exchange's JSON API (executor/paper), as a venue connector.

Symbols: the desk writes BTC/USDT, the paper exchange BTC-USDT. An order the venue accepted
(resting or filled) is a SUCCESS for the desk; a venue rejection is FAILED with REJECTED. The
venue's order statuses map to venue states (NEW -> OPEN, the others by name); each order answer
carries its fills (trades) with fees, which become OrderResult.fills.
"""

import logging
import os
import threading
from decimal import Decimal

import httpx
from django.conf import settings
from django.utils.dateparse import parse_datetime

from executor.connectors.base import (
    AccountConfig,
    Balance,
    Connector,
    ErrorCode,
    Fill,
    Instrument,
    OrderResult,
    OrderTicket,
    Position,
    ResultStatus,
    VenueState,
)

logger = logging.getLogger(__name__)


def to_venue(symbol: str) -> str:
    return symbol.replace("/", "-")


def to_desk(symbol: str) -> str:
    return symbol.replace("-", "/")


def _decimal(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


# The paper exchange's order statuses as venue states; REJECTED never reaches here as a state
# (a rejected placement is a FAILED result).
_VENUE_STATES = {
    "NEW": VenueState.OPEN,
    "PARTIALLY_FILLED": VenueState.PARTIALLY_FILLED,
    "FILLED": VenueState.FILLED,
    "CANCELED": VenueState.CANCELED,
    "EXPIRED": VenueState.EXPIRED,
}


def _fill(row: dict) -> Fill:
    return Fill(
        trade_id=str(row["trade_id"]),
        qty=Decimal(str(row["qty"])),
        price=Decimal(str(row["price"])),
        fee=_decimal(row.get("fee")) or Decimal("0"),
        fee_asset=row.get("fee_asset") or "",
        time=parse_datetime(row["time"]) if row.get("time") else None,
    )


_transports: dict[int, httpx.HTTPTransport] = {}
_transports_lock = threading.Lock()


def _shared_transport() -> httpx.HTTPTransport:
    """One connection pool per process for every connector: keep-alive connections to the venue,
    and the TLS context (loading the CA bundle costs ~20 ms) built once, not per connector.
    Keyed by process id, so a forked worker never shares its parent's sockets."""
    pid = os.getpid()
    with _transports_lock:
        transport = _transports.get(pid)
        if transport is None:
            transport = _transports[pid] = httpx.HTTPTransport(
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32)
            )
        return transport


class PaperApiConnector(Connector):
    name = "paper"

    def __init__(self, account: AccountConfig | None = None) -> None:
        super().__init__(account)
        base = (self.account.base_url or settings.PAPER_BASE_URL).rstrip("/")
        self.client = httpx.Client(
            base_url=f"{base}/api",
            headers={"X-PAPER-KEY": self.account.secrets.get("api_key", "")},
            timeout=httpx.Timeout(settings.PAPER_API_TIMEOUT, connect=3.0),
            transport=_shared_transport(),
        )

    def place_order(self, ticket: OrderTicket) -> OrderResult:
        body = {
            "client_order_id": ticket.client_order_id,
            "symbol": to_venue(ticket.symbol),
            "side": ticket.side,
            "type": ticket.order_type,
            "qty": str(ticket.qty),
            **({"price": str(ticket.price)} if ticket.price is not None else {}),
        }
        try:
            response = self.client.post("/orders", json=body)
        except httpx.ConnectError as exc:
            # Nothing was sent: the connection was never made.
            return OrderResult.failed(ticket.client_order_id, ErrorCode.NETWORK, f"cannot reach the venue: {exc}")
        except httpx.TimeoutException as exc:
            return OrderResult.unknown(ticket.client_order_id, f"no answer from the venue in time: {exc!r}")
        except httpx.TransportError as exc:
            return OrderResult.unknown(ticket.client_order_id, f"the connection broke after sending: {exc!r}")
        return self._result_of(ticket.client_order_id, response)

    def _result_of(self, client_order_id: str, response: httpx.Response) -> OrderResult:
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        error = payload.get("error") or {}
        if response.status_code in (201, 409) and payload.get("order"):
            # 409: the venue already has this client order id; its order is the answer.
            return self._order_result(payload["order"])
        if response.status_code == 201:
            return self._order_result(payload)
        if response.status_code == 422:
            return OrderResult.failed(
                client_order_id, ErrorCode.REJECTED, f"{error.get('code', 'REJECTED')}: {error.get('message', '')}"
            )
        if response.status_code in (401, 403):
            return OrderResult.failed(
                client_order_id, ErrorCode.CONNECTOR_ERROR, "the venue refused the API key; check the exchange account"
            )
        if response.status_code >= 500:
            return OrderResult.unknown(client_order_id, f"the venue answered {response.status_code}")
        return OrderResult.failed(
            client_order_id, ErrorCode.CONNECTOR_ERROR, f"venue answered {response.status_code}: {response.text[:300]}"
        )

    @staticmethod
    def _order_result(order: dict) -> OrderResult:
        if order.get("status") == "REJECTED":
            return OrderResult.failed(
                order["client_order_id"],
                ErrorCode.REJECTED,
                f"{order.get('reject_code')}: {order.get('reject_reason')}",
            )
        return OrderResult(
            ResultStatus.SUCCESS,
            order["client_order_id"],
            exchange_order_id=str(order["order_id"]),
            filled_qty=_decimal(order.get("filled_qty")),
            avg_price=_decimal(order.get("avg_price")),
            venue_state=_VENUE_STATES.get(order.get("status", ""), ""),
            fee=_decimal(order.get("fee")),
            fee_asset=order.get("fee_asset") or "",
            fills=tuple(_fill(row) for row in order.get("fills") or ()),
            symbol=to_desk(order.get("symbol", "")),
        )

    def get_order(self, client_order_id: str, *, ticket=None, exchange_order_id: str = "") -> OrderResult | None:
        response = self.client.get(f"/orders/by-client-id/{client_order_id}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return self._order_result(response.json())

    def cancel_order(self, client_order_id: str, *, ticket=None, exchange_order_id: str = "") -> OrderResult:
        """The venue's order after the cancel: CANCELED with its fills, or, when it was no longer
        open (filled first), ORDER_FINAL, which the desk settles by looking the order up."""
        try:
            response = self.client.post(f"/orders/by-client-id/{client_order_id}/cancel")
        except httpx.ConnectError as exc:
            return OrderResult.failed(client_order_id, ErrorCode.NETWORK, f"cannot reach the venue: {exc}")
        except httpx.TransportError as exc:
            # Sent, maybe acted on: only a lookup can tell.
            return OrderResult.unknown(client_order_id, f"no answer to the cancel: {exc!r}")
        if response.status_code == 200:
            return self._order_result(response.json())
        error = self._error(response)
        if response.status_code == 409:
            return OrderResult.failed(client_order_id, ErrorCode.ORDER_FINAL, error)
        if response.status_code == 404:
            return OrderResult.failed(client_order_id, ErrorCode.NOT_FOUND_AT_VENUE, error)
        if response.status_code >= 500:
            return OrderResult.unknown(client_order_id, f"the venue answered the cancel with {response.status_code}")
        return OrderResult.failed(client_order_id, ErrorCode.CONNECTOR_ERROR, f"{response.status_code}: {error}")

    @staticmethod
    def _error(response: httpx.Response) -> str:
        try:
            error = response.json().get("error") or {}
        except ValueError:
            return response.text[:300]
        return f"{error.get('code', '')}: {error.get('message', '')}"

    def open_orders(self, symbol: str | None = None) -> list[OrderResult]:
        params = {"symbol": to_venue(symbol)} if symbol else {}
        response = self.client.get("/orders/open", params=params)
        response.raise_for_status()
        return [self._order_result(row) for row in response.json()["orders"]]

    def get_positions(self) -> list[Position]:
        response = self.client.get("/positions")
        response.raise_for_status()
        return [
            Position(to_desk(row["symbol"]), Decimal(row["qty"]), _decimal(row.get("avg_price")))
            for row in response.json()["positions"]
        ]

    def get_balances(self) -> list[Balance]:
        response = self.client.get("/balances")
        response.raise_for_status()
        return [
            Balance(row["asset"], Decimal(row["free"]), Decimal(row.get("locked") or "0"))
            for row in response.json()["balances"]
        ]

    def last_price(self, symbol: str) -> Decimal | None:
        response = self.client.get(f"/prices/{to_venue(symbol)}", timeout=3.0)
        if response.status_code != 200:
            return None
        return _decimal(response.json().get("price"))

    def instruments(self) -> dict[str, Instrument]:
        response = self.client.get("/instruments", timeout=3.0)
        response.raise_for_status()
        return {
            to_desk(row["symbol"]): Instrument(
                to_desk(row["symbol"]),
                Decimal(row["lot_size"]),
                Decimal(row["min_qty"]),
                _decimal(row.get("tick_size")),
                _decimal(row.get("min_notional")),
                base=row.get("base_asset", ""),
                quote=row.get("quote_asset", ""),
            )
            for row in response.json()["instruments"]
        }
