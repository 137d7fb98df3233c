"""The venue connector interface: dataclasses in, dataclasses out, no desk models.

A connector places an order described by an OrderTicket and says what happened in an
OrderResult; it can look an order up by the client order id the desk wrote before the call,
and read positions and balances. Browser, API and dry-run venues all implement this.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class ResultStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    # The venue may or may not have the order (timeout or crash after sending): the desk must
    # look it up by client order id, never place it again.
    UNKNOWN = "UNKNOWN"


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
class AccountConfig:
    """What a connector needs to reach one exchange account; secrets stay out of repr and logs."""

    label: str
    venue: str
    base_url: str = ""
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    key: str = ""  # a stable id for per-account state (browser profile directory, ledgers)


@dataclass(frozen=True)
class OrderTicket:
    client_order_id: str
    symbol: str
    side: str
    order_type: str
    qty: Decimal
    price: Decimal | None = None
    reference_price: Decimal | None = None


@dataclass(frozen=True)
class OrderResult:
    status: ResultStatus
    client_order_id: str
    exchange_order_id: str = ""
    filled_qty: Decimal | None = None
    avg_price: Decimal | None = None
    error_code: str = ""
    error_message: str = ""
    screenshot: str = ""  # evidence of a failure (file paths), kept on the order
    trace: str = ""

    @classmethod
    def failed(cls, client_order_id: str, code: ErrorCode, message: str) -> OrderResult:
        return cls(ResultStatus.FAILED, client_order_id, error_code=code, error_message=message)

    @classmethod
    def unknown(cls, client_order_id: str, message: str) -> OrderResult:
        return cls(ResultStatus.UNKNOWN, client_order_id, error_code=ErrorCode.UNKNOWN_OUTCOME, error_message=message)


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


@dataclass(frozen=True)
class Instrument:
    """A venue's trading rules for one symbol: quantities are multiples of lot_size, at least min_qty."""

    symbol: str
    lot_size: Decimal
    min_qty: Decimal
    tick_size: Decimal | None = None


class Connector(abc.ABC):
    name: str = ""

    def __init__(self, account: AccountConfig | None = None) -> None:
        self.account = account or AccountConfig(label="default", venue=self.name)

    @abc.abstractmethod
    def place_order(self, ticket: OrderTicket) -> OrderResult:
        """Place the order once. Retries are allowed only before the venue may have received it;
        after that, an unknown outcome is returned as ResultStatus.UNKNOWN."""

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

    def instruments(self) -> dict[str, Instrument]:
        """The venue's instruments by desk symbol (BTC/USDT); empty when the venue does not say."""
        return {}
