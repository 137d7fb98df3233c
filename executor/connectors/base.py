"""The venue connector interface: dataclasses in, dataclasses out, no desk models.

A connector places an order described by an OrderTicket and says what happened in an
OrderResult; it looks an order up by the client order id the desk wrote before the call (or,
on venues that do not keep our id, by the order's own fields), follows it to its end (venue
state, fills, fees), cancels it, and reads open orders, positions, balances, prices and the
venue's trading rules. Browser, API (paper, ccxt) and dry-run venues all implement this.
A venue that pushes an account's executions (Binance's User Data Stream) also offers an
ExecutionStream; the others offer none and are read when asked.

Placement outcome vs venue state: ResultStatus says what happened to the *placement* (the
venue accepted it, refused it, or nobody knows yet); VenueState says where an accepted order
is now in its life at the venue (resting, partly filled, filled, canceled...).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
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
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    # The venue refused the credentials or their permissions: the account needs a person.
    AUTH_FAILED = "AUTH_FAILED"
    # The venue does not list the symbol (a fast, typed refusal, never a layout error).
    SYMBOL_NOT_FOUND = "SYMBOL_NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    # Our clock and the venue's disagree by more than the venue accepts (signed APIs).
    CLOCK_SKEW = "CLOCK_SKEW"
    # A cancel the venue refused because the order is already final (filled, canceled).
    ORDER_FINAL = "ORDER_FINAL"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    # Another process has this browser account open (one owner per account); nothing was sent.
    ACCOUNT_IN_USE = "ACCOUNT_IN_USE"


class VenueState(StrEnum):
    """Where an accepted order is at the venue. Final: FILLED, CANCELED, EXPIRED, REJECTED."""

    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"


FINAL_VENUE_STATES = frozenset({VenueState.FILLED, VenueState.CANCELED, VenueState.EXPIRED, VenueState.REJECTED})


@dataclass(frozen=True)
class AccountConfig:
    """What a connector needs to reach one exchange account; secrets stay out of repr and logs."""

    label: str
    venue: str
    base_url: str = ""
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    key: str = ""  # a stable id for per-account state (browser profile directory, ledgers)
    # ccxt: the exchange id (binance, bybit, okx, kraken...) and whether to use its testnet.
    exchange_id: str = ""
    sandbox: bool = False


@dataclass(frozen=True)
class OrderTicket:
    client_order_id: str
    symbol: str
    side: str
    order_type: str
    qty: Decimal
    price: Decimal | None = None
    reference_price: Decimal | None = None
    # When the desk recorded the attempt (before the submit): venues searched by an order's own
    # fields look for rows from this time on.
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class Fill:
    """One trade at the venue for one order; trade_id is unique per order at the venue."""

    trade_id: str
    qty: Decimal
    price: Decimal
    fee: Decimal = Decimal("0")
    fee_asset: str = ""
    time: datetime | None = None


@dataclass(frozen=True)
class Execution:
    """One trade of the account at the venue, as its stream pushed it (whoever placed the order)."""

    symbol: str  # the desk's (BTC/USDT)
    side: str  # BUY / SELL
    qty: Decimal
    price: Decimal
    exchange_order_id: str = ""
    client_order_id: str = ""
    trade_id: str = ""
    time: datetime | None = None


class ExecutionStream(abc.ABC):
    """An account's executions as the venue pushes them. Async: one asyncio task reads it.
    `key` names what the stream was built from (venue, address, keys: a hash, never a secret),
    so a watcher knows when an account's settings changed and its stream must be rebuilt."""

    key: str = ""

    @abc.abstractmethod
    async def connect(self) -> None:
        """Connect and subscribe; return once the venue confirmed the subscription. Raises when
        it cannot (unreachable, keys refused)."""

    @abc.abstractmethod
    async def next(self) -> list[Execution]:
        """Wait for the account's next executions (connecting first when not connected). Raises
        when the stream broke: executions pushed while it was down are not replayed, so the
        caller reads the account again."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Drop the connection; the next call to `next` connects again."""


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
    # The order's life at the venue, when the venue said (empty: not known from this answer).
    venue_state: str = ""
    fee: Decimal | None = None  # total fees so far, in fee_asset
    fee_asset: str = ""
    fills: tuple[Fill, ...] = ()
    # UNKNOWN and no lookup can settle it (a venue searched by fields found none or several
    # matching rows): a person must say whether the order was placed. Never guessed.
    needs_review: bool = False
    symbol: str = ""  # filled in by open_orders(), where one answer covers many symbols

    @classmethod
    def failed(cls, client_order_id: str, code: ErrorCode, message: str) -> OrderResult:
        return cls(ResultStatus.FAILED, client_order_id, error_code=code, error_message=message)

    @classmethod
    def unknown(cls, client_order_id: str, message: str, *, needs_review: bool = False) -> OrderResult:
        return cls(
            ResultStatus.UNKNOWN,
            client_order_id,
            error_code=ErrorCode.UNKNOWN_OUTCOME,
            error_message=message,
            needs_review=needs_review,
        )

    @property
    def is_final(self) -> bool:
        return self.venue_state in FINAL_VENUE_STATES


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
    min_notional: Decimal | None = None  # qty x price must reach this (quote currency)
    base: str = ""  # BTC of BTC/USDT; empty for venues without a quote currency (stock tickers)
    quote: str = ""


@dataclass(frozen=True)
class AccountCheck:
    """Whether the account works: keys valid, session logged in, clocks in step."""

    ok: bool
    code: str = ""  # an ErrorCode when not ok
    detail: str = ""
    clock_skew_ms: int | None = None


class Connector(abc.ABC):
    name: str = ""
    # True when get_order searches by our client order id, so "not found" after a grace period
    # means the venue never took the order. False for venues searched by an order's own fields:
    # there "not found" stays UNKNOWN and goes to a person (needs review).
    lookup_is_certain: bool = True

    def __init__(self, account: AccountConfig | None = None) -> None:
        self.account = account or AccountConfig(label="default", venue=self.name)

    @abc.abstractmethod
    def place_order(self, ticket: OrderTicket) -> OrderResult:
        """Place the order once. Retries are allowed only before the venue may have received it;
        after that, an unknown outcome is returned as ResultStatus.UNKNOWN."""

    @abc.abstractmethod
    def get_order(
        self, client_order_id: str, *, ticket: OrderTicket | None = None, exchange_order_id: str = ""
    ) -> OrderResult | None:
        """The venue's record of the order now (venue_state, filled qty, average price, fees,
        fills), or None if the venue does not have it. `ticket` carries the order's own fields
        for venues that need them (a symbol for ccxt, side/qty/price for a site searched by
        fields); an ambiguous search returns OrderResult.unknown(..., needs_review=True)."""

    def cancel_order(
        self, client_order_id: str, *, ticket: OrderTicket | None = None, exchange_order_id: str = ""
    ) -> OrderResult:
        """Ask the venue to cancel; answer with the order as the venue now has it (CANCELED, or
        FILLED when it filled first). A lost answer is ResultStatus.UNKNOWN: look it up."""
        return OrderResult.failed(client_order_id, ErrorCode.NOT_SUPPORTED, f"{self.name} cannot cancel orders")

    def open_orders(self, symbol: str | None = None) -> list[OrderResult]:
        """The account's resting orders at the venue (each with .symbol set)."""
        raise NotImplementedError(f"{self.name} cannot list open orders")

    def check_account(self) -> AccountCheck:
        """Keys valid, session alive, clock in step; the default reads the balances."""
        try:
            self.get_balances()
        except Exception as exc:
            return AccountCheck(ok=False, code=ErrorCode.CONNECTOR_ERROR, detail=str(exc)[:300])
        return AccountCheck(ok=True)

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

    def execution_stream(self) -> ExecutionStream | None:
        """The account's executions pushed by the venue, or None when the venue pushes nothing
        (the desk then learns of a trade it did not place only by reading the account)."""
        return None
