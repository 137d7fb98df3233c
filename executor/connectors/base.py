"""The venue connector interface: dataclasses in, dataclasses out, no desk models.

A connector places an order described by an OrderTicket and says what happened in an
OrderResult; it can look an order up by the client order id the desk wrote before the call,
and read positions and balances. Browser, API and dry-run venues all implement this.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class ResultStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class ErrorCode(StrEnum):
    ELEMENT_NOT_FOUND = "ELEMENT_NOT_FOUND"
    SESSION_EXPIRED = "SESSION_EXPIRED"
    CAPTCHA_REQUIRED = "CAPTCHA_REQUIRED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    NETWORK = "NETWORK"
    UNKNOWN_OUTCOME = "UNKNOWN_OUTCOME"
    NO_PRICE = "NO_PRICE"
    NOT_FOUND_AT_VENUE = "NOT_FOUND_AT_VENUE"
    CONNECTOR_ERROR = "CONNECTOR_ERROR"


@dataclass(frozen=True)
class OrderTicket:
    client_order_id: str
    symbol: str
    side: str
    order_type: str
    qty: Decimal
    price: Decimal | None = None
    reference_price: Decimal | None = None
    account: str = ""


@dataclass(frozen=True)
class OrderResult:
    status: ResultStatus
    client_order_id: str
    exchange_order_id: str = ""
    filled_qty: Decimal | None = None
    avg_price: Decimal | None = None
    error_code: str = ""
    error_message: str = ""

    @classmethod
    def failed(cls, client_order_id: str, code: ErrorCode, message: str) -> OrderResult:
        return cls(ResultStatus.FAILED, client_order_id, error_code=code, error_message=message)


@dataclass(frozen=True)
class Position:
    symbol: str
    qty: Decimal
    avg_price: Decimal | None = None


@dataclass(frozen=True)
class Balance:
    asset: str
    free: Decimal
    locked: Decimal = Decimal("0")


class Connector(abc.ABC):
    name: str = ""

    def __init__(self, account: str = "") -> None:
        self.account = account

    @abc.abstractmethod
    def place_order(self, ticket: OrderTicket) -> OrderResult:
        """Place the order once. Must not retry after the venue may have received it."""

    @abc.abstractmethod
    def get_order(self, client_order_id: str) -> OrderResult | None:
        """The venue's record of the order, or None if the venue never received it."""

    @abc.abstractmethod
    def get_positions(self) -> list[Position]: ...

    @abc.abstractmethod
    def get_balances(self) -> list[Balance]: ...

    def last_price(self, symbol: str) -> Decimal | None:
        """The venue's last known price, if it has one; used for notional risk checks."""
        return None
