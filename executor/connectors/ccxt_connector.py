"""Any exchange ccxt knows (binance, bybit, okx, kraken...), spot, through ccxt's sync API.

The exchange comes from the account's exchange_id, the keys from its secrets (api_key,
api_secret, passphrase), `sandbox` selects the exchange's testnet and `base_url` sends every call
to another host with the same paths (the paper exchange's Binance dialect). Symbols are ccxt's
unified ones, which are the desk's (BTC/USDT).

Placement is sent once. What ccxt raises says whether the order may have reached the venue:
- the venue answered with a refusal (InsufficientFunds, InvalidOrder, BadRequest, an auth or
  clock error): FAILED with a typed code; auth and clock errors also mark the account as
  needing a person (health) and alert;
- a duplicate client order id: the venue has our order already, so it is looked up and that
  order is the answer, never a second one;
- the venue refused before acting (rate limited: 429/418, DDoSProtection) or the connection was
  never made (refused, DNS, connect timeout): waited and retried up to CCXT_RETRIES times;
- anything else after the request may have been sent (a read timeout, a 5xx, a broken
  connection): UNKNOWN, settled by a lookup by client order id.
Quantities and prices go through ccxt's amount_to_precision/price_to_precision only to format
them: a value that formatting would change (off the lot step or tick) is refused, never rounded
into a different order than the one the trader confirmed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import ccxt
import requests
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS
from django.conf import settings

from executor.connectors import ccxt_pool
from executor.connectors.base import (
    AccountCheck,
    AccountConfig,
    Balance,
    Connector,
    ErrorCode,
    ExecutionStream,
    Fill,
    Instrument,
    OrderResult,
    OrderTicket,
    Position,
    ResultStatus,
    VenueState,
)
from executor.health import exchange_account_health_record

logger = logging.getLogger(__name__)

ZERO = Decimal("0")


def _d(value) -> Decimal | None:
    """ccxt gives numbers as floats or strings; str() of a float is its shortest exact repr."""
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _never_sent(exc: BaseException) -> bool:
    """True when the request provably never reached the venue: the connection was not made."""
    seen = exc
    while seen is not None:
        if isinstance(seen, requests.exceptions.ConnectTimeout):
            return True
        if isinstance(seen, requests.exceptions.ConnectionError):
            text = str(seen)
            if any(word in text for word in ("NewConnectionError", "Connection refused", "NameResolutionError")):
                return True
        seen = seen.__cause__ or seen.__context__
    return False


def _retryable(exc: BaseException) -> bool:
    """Refused by the venue before it acted (rate limits), or never sent: safe to send again."""
    return isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection) or (
        isinstance(exc, ccxt.NetworkError) and _never_sent(exc)
    )


def _retry_after(exc: BaseException, headers) -> float | None:
    """The seconds a rate-limited answer asks to wait (its Retry-After header, as Binance sends
    with 429 and 418), or None."""
    if not isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection) or not headers:
        return None
    value = str(headers.get("Retry-After") or "").strip()
    return float(value) if value.isdigit() else None


def _is_duplicate(exc: BaseException) -> bool:
    # Binance answers a reused newClientOrderId with -2010 "Duplicate order sent." (InvalidOrder).
    return isinstance(exc, ccxt.DuplicateOrderId) or "duplicate order" in str(exc).lower()


def _venue_state(order: dict) -> str:
    status = (order.get("status") or "").lower()
    filled = _d(order.get("filled")) or ZERO
    amount = _d(order.get("amount"))
    if status == "open":
        return VenueState.PARTIALLY_FILLED if filled > 0 else VenueState.OPEN
    if status == "closed":
        # ccxt's "closed" is "nothing left to do": FILLED when it filled completely.
        if amount is not None and filled < amount:
            return VenueState.CANCELED if filled > 0 else VenueState.EXPIRED
        return VenueState.FILLED
    return {
        "canceled": VenueState.CANCELED,
        "cancelled": VenueState.CANCELED,
        "expired": VenueState.EXPIRED,
        "rejected": VenueState.REJECTED,
    }.get(status, "")


def _fill(trade: dict) -> Fill:
    fee = trade.get("fee") or {}
    stamp = trade.get("timestamp")
    return Fill(
        trade_id=str(trade.get("id") or ""),
        qty=_d(trade.get("amount")) or ZERO,
        price=_d(trade.get("price")) or ZERO,
        fee=_d(fee.get("cost")) or ZERO,
        fee_asset=fee.get("currency") or "",
        time=datetime.fromtimestamp(stamp / 1000, tz=UTC) if stamp else None,
    )


def _fee(order: dict, fills: tuple[Fill, ...]) -> tuple[Decimal | None, str]:
    if fills:
        assets = {f.fee_asset for f in fills if f.fee}
        if len(assets) <= 1:
            return sum((f.fee for f in fills), ZERO), (assets.pop() if assets else "")
    fee = order.get("fee") or {}
    return _d(fee.get("cost")), fee.get("currency") or ""


def _step(precision, mode: int) -> Decimal | None:
    """A market's precision as a step: ccxt gives either the step itself or a count of digits."""
    if precision is None:
        return None
    if mode == DECIMAL_PLACES:
        return Decimal(1).scaleb(-int(precision))
    if mode == SIGNIFICANT_DIGITS:
        return None  # no fixed step: the venue's own checks decide
    return _d(precision)


class CcxtConnector(Connector):
    name = "ccxt"

    def __init__(self, account: AccountConfig | None = None) -> None:
        super().__init__(account)
        if not self.account.exchange_id:
            raise ValueError(f"ccxt account {self.account.label} has no exchange_id (binance, bybit, okx...)")
        self._entry = ccxt_pool.pooled(self.account)

    @property
    def exchange(self) -> ccxt.Exchange:
        return self._entry.exchange

    def _call(self, work: Callable[[ccxt.Exchange], object]):
        """Run one ccxt call under the instance's lock, retrying what the venue refused before
        acting or what never left; every other error goes to the caller."""
        delays = [settings.CCXT_RETRY_DELAY * 2**attempt for attempt in range(settings.CCXT_RETRIES)]
        while True:
            with self._entry.lock:
                try:
                    return work(self.exchange)
                except ccxt.BaseError as exc:
                    error = exc
                    # Read under the lock: the next call on this shared instance replaces them.
                    asked = _retry_after(exc, self.exchange.last_response_headers)
            if isinstance(error, ccxt.AuthenticationError | ccxt.InvalidNonce):
                self._mark_needs_person(error)
                raise error
            if not delays or not _retryable(error):
                raise error
            delay = max(delays.pop(0), asked or 0.0)
            if delay > settings.CCXT_RETRY_AFTER_MAX:
                raise error  # the venue asks for a longer pause than an order should wait for
            logger.warning("%s: %s; retrying in %.1fs", self.account.label, type(error).__name__, delay)
            time.sleep(delay)  # the venue's back-off (Retry-After) or ours, not a wait for work

    def _markets(self) -> dict:
        return self._call(lambda exchange: ccxt_pool.markets(self._entry))

    def _market(self, symbol: str) -> dict | None:
        market = self._markets().get(symbol)
        return market if market and market.get("spot", True) else None

    # Placement

    def place_order(self, ticket: OrderTicket) -> OrderResult:
        cid = ticket.client_order_id
        try:
            market = self._market(ticket.symbol)
        except ccxt.BaseError as exc:
            # Nothing about the order was sent yet: reading the markets failed.
            return self._refusal(cid, exc, before_sending=True)
        if market is None:
            return OrderResult.failed(
                cid, ErrorCode.SYMBOL_NOT_FOUND, f"{self.exchange.id} lists no spot market {ticket.symbol}"
            )
        try:
            amount, price = self._formatted(ticket)
        except ValueError as exc:
            return OrderResult.failed(cid, ErrorCode.REJECTED, str(exc))
        try:
            order = self._call(
                lambda exchange: exchange.create_order(
                    ticket.symbol,
                    ticket.order_type.lower(),
                    ticket.side.lower(),
                    amount,
                    price,
                    {"clientOrderId": cid},
                )
            )
        except ccxt.BaseError as exc:
            if _is_duplicate(exc):
                logger.warning("%s: client order id %s already at the venue; looking it up", self.account.label, cid)
                return self._existing(ticket)
            return self._refusal(cid, exc, before_sending=False)
        except Exception as exc:  # noqa: BLE001 - after the send, any failure leaves the outcome unknown
            logger.exception("%s: order %s: ccxt failed after sending", self.account.label, cid)
            return OrderResult.unknown(cid, f"ccxt failed after sending: {exc!r}")
        return self._result(order, cid)

    def _formatted(self, ticket: OrderTicket) -> tuple[float, float | None]:
        """The ticket's qty and price as ccxt sends them; refused if formatting would change them."""
        amount_text = self.exchange.amount_to_precision(ticket.symbol, float(ticket.qty))
        if Decimal(amount_text) != ticket.qty:
            raise ValueError(
                f"quantity {ticket.qty} is not on {ticket.symbol}'s lot step at {self.exchange.id} "
                f"(it would be sent as {amount_text}); nothing was sent"
            )
        if ticket.order_type != "LIMIT":
            return float(amount_text), None
        if ticket.price is None:
            raise ValueError("a LIMIT order needs a price; nothing was sent")
        price_text = self.exchange.price_to_precision(ticket.symbol, float(ticket.price))
        if Decimal(price_text) != ticket.price:
            raise ValueError(
                f"price {ticket.price} is not on {ticket.symbol}'s tick at {self.exchange.id} "
                f"(it would be sent as {price_text}); nothing was sent"
            )
        return float(amount_text), float(price_text)

    def _existing(self, ticket: OrderTicket) -> OrderResult:
        try:
            found = self.get_order(ticket.client_order_id, ticket=ticket)
        except Exception as exc:  # noqa: BLE001 - the venue has it; only the lookup failed
            return OrderResult.unknown(
                ticket.client_order_id, f"the venue has this client order id; lookup failed: {exc}"
            )
        if found is None:
            return OrderResult.unknown(
                ticket.client_order_id, "the venue reports a duplicate but shows no such order yet"
            )
        return found

    def _refusal(self, cid: str, exc: ccxt.BaseError, *, before_sending: bool) -> OrderResult:
        text = str(exc)[:500]
        if isinstance(exc, ccxt.InsufficientFunds):
            return OrderResult.failed(cid, ErrorCode.INSUFFICIENT_BALANCE, text)
        if isinstance(exc, ccxt.AuthenticationError):
            return OrderResult.failed(
                cid, ErrorCode.AUTH_FAILED, f"the venue refused the API key or its permissions: {text}"
            )
        if isinstance(exc, ccxt.InvalidNonce):
            return OrderResult.failed(cid, ErrorCode.CLOCK_SKEW, self._clock_message(text))
        if isinstance(exc, ccxt.BadSymbol):
            return OrderResult.failed(cid, ErrorCode.SYMBOL_NOT_FOUND, text)
        if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
            return OrderResult.failed(cid, ErrorCode.RATE_LIMITED, f"rate limited; nothing was placed: {text}")
        if isinstance(exc, ccxt.NetworkError):
            if before_sending or _never_sent(exc):
                return OrderResult.failed(cid, ErrorCode.NETWORK, f"cannot reach the venue; nothing was sent: {text}")
            return OrderResult.unknown(
                cid, f"no clear answer from the venue after sending: {type(exc).__name__}: {text}"
            )
        if isinstance(exc, ccxt.ExchangeError):
            # The venue answered with an error of its own (InvalidOrder, BadRequest...): refused.
            return OrderResult.failed(cid, ErrorCode.REJECTED, text)
        return OrderResult.failed(cid, ErrorCode.CONNECTOR_ERROR, text)

    def _clock_message(self, text: str) -> str:
        return (
            f"this server's clock and {self.exchange.id}'s differ by more than the venue accepts "
            f"(recvWindow); set the server's clock (NTP) and check the account: {text}"
        )

    def _result(self, order: dict, cid: str) -> OrderResult:
        state = _venue_state(order)
        fills = tuple(_fill(trade) for trade in order.get("trades") or ())
        if state == VenueState.REJECTED:
            return OrderResult.failed(cid, ErrorCode.REJECTED, f"the venue rejected the order: {order.get('info')}")
        fee, fee_asset = _fee(order, fills)
        return OrderResult(
            ResultStatus.SUCCESS,
            order.get("clientOrderId") or cid,
            exchange_order_id=str(order.get("id") or ""),
            filled_qty=_d(order.get("filled")),
            avg_price=_d(order.get("average")),
            venue_state=state,
            fee=fee,
            fee_asset=fee_asset,
            fills=fills,
        )

    # The order's life

    def get_order(
        self, client_order_id: str, *, ticket: OrderTicket | None = None, exchange_order_id: str = ""
    ) -> OrderResult | None:
        if ticket is None:
            raise ValueError(f"{self.exchange.id} looks orders up per symbol: pass the order's ticket")
        try:
            order = self._call(
                lambda exchange: exchange.fetch_order(
                    exchange_order_id or None, ticket.symbol, {"clientOrderId": client_order_id}
                )
            )
        except ccxt.OrderNotFound:
            return None
        result = self._result(order, client_order_id)
        if result.status == ResultStatus.SUCCESS and (result.filled_qty or ZERO) > 0 and not result.fills:
            result = self._with_fills(result, ticket.symbol)
        return result

    def _with_fills(self, result: OrderResult, symbol: str) -> OrderResult:
        if not self.exchange.has.get("fetchOrderTrades"):
            return result
        try:
            trades = self._call(lambda exchange: exchange.fetch_order_trades(result.exchange_order_id, symbol))
        except ccxt.BaseError as exc:
            logger.warning("%s: fills of %s not read: %s", self.account.label, result.client_order_id, exc)
            return result
        fills = tuple(_fill(trade) for trade in trades)
        fee, fee_asset = _fee({"fee": {"cost": result.fee, "currency": result.fee_asset}}, fills)
        return replace(result, fills=fills, fee=fee, fee_asset=fee_asset)

    def cancel_order(
        self, client_order_id: str, *, ticket: OrderTicket | None = None, exchange_order_id: str = ""
    ) -> OrderResult:
        if ticket is None:
            return OrderResult.failed(client_order_id, ErrorCode.CONNECTOR_ERROR, "a cancel needs the order's ticket")
        try:
            self._call(
                lambda exchange: exchange.cancel_order(
                    exchange_order_id or None, ticket.symbol, {"clientOrderId": client_order_id}
                )
            )
        except ccxt.OrderNotFound:
            pass  # already final (filled, canceled) or never there: the lookup says which
        except ccxt.BaseError as exc:
            if isinstance(exc, ccxt.NetworkError) and not _never_sent(exc):
                return OrderResult.unknown(client_order_id, f"the cancel's answer was lost: {type(exc).__name__}")
            return OrderResult.failed(client_order_id, ErrorCode.CONNECTOR_ERROR, f"cancel refused: {str(exc)[:300]}")
        # Read the order back: the cancel's own answer may predate a last fill.
        try:
            found = self.get_order(client_order_id, ticket=ticket, exchange_order_id=exchange_order_id)
        except ccxt.BaseError as exc:
            return OrderResult.unknown(client_order_id, f"canceled, but the order could not be read back: {exc}")
        if found is None:
            return OrderResult.failed(client_order_id, ErrorCode.NOT_FOUND_AT_VENUE, "the venue has no such order")
        return found

    def open_orders(self, symbol: str | None = None) -> list[OrderResult]:
        orders = self._call(lambda exchange: exchange.fetch_open_orders(symbol))
        results = []
        for order in orders:
            result = self._result(order, order.get("clientOrderId") or "")
            results.append(replace(result, symbol=order.get("symbol") or symbol or ""))
        return results

    # The account

    def get_balances(self) -> list[Balance]:
        balance = self._call(lambda exchange: exchange.fetch_balance())
        rows = []
        for asset, total in sorted((balance.get("total") or {}).items()):
            free = _d((balance.get("free") or {}).get(asset)) or ZERO
            used = _d((balance.get("used") or {}).get(asset)) or ZERO
            if (_d(total) or ZERO) or free or used:
                rows.append(Balance(asset, free, used))
        return rows

    def get_positions(self) -> list[Position]:
        """Spot: every non-zero holding of a base asset is a position in its market against the
        first quote of CCXT_QUOTE_ASSETS the venue lists (BTC held → BTC/USDT). Quote assets
        themselves are cash, not positions. The venue keeps no entry price: avg_price is None."""
        markets = self._markets()
        quotes = settings.CCXT_QUOTE_ASSETS
        positions = []
        for row in self.get_balances():
            qty = row.free + row.locked
            if not qty or row.asset in quotes:
                continue
            symbol = next((f"{row.asset}/{q}" for q in quotes if f"{row.asset}/{q}" in markets), None)
            if symbol is not None:
                positions.append(Position(symbol, qty))
        return positions

    def execution_stream(self) -> ExecutionStream | None:
        """The account's trades as the exchange pushes them, where ccxt.pro watches them."""
        # ccxt.pro: only the process that watches the streams pays for importing it.
        from executor.connectors.ccxt_stream import CcxtExecutionStream, watches_trades

        if not watches_trades(self.account.exchange_id):
            return None
        return CcxtExecutionStream(self.account)

    def last_price(self, symbol: str) -> Decimal | None:
        ticker = self._call(lambda exchange: exchange.fetch_ticker(symbol))
        return _d(ticker.get("last") or ticker.get("close"))

    def instruments(self) -> dict[str, Instrument]:
        mode = self.exchange.precisionMode
        found = {}
        for symbol, market in self._markets().items():
            if not market.get("spot", True) or market.get("active") is False:
                continue
            precision, limits = market.get("precision") or {}, market.get("limits") or {}
            lot = _step(precision.get("amount"), mode)
            min_qty = _d((limits.get("amount") or {}).get("min"))
            found[symbol] = Instrument(
                symbol=symbol,
                lot_size=lot or min_qty or Decimal("0"),
                min_qty=min_qty or lot or Decimal("0"),
                tick_size=_step(precision.get("price"), mode),
                min_notional=_d((limits.get("cost") or {}).get("min")),
                base=market.get("base") or "",
                quote=market.get("quote") or "",
            )
        return found

    def refresh_instruments(self) -> dict[str, Instrument]:
        """Load the markets again now (the scheduled refresh), whatever their age."""
        self._call(lambda exchange: ccxt_pool.markets(self._entry, reload=True))
        return self.instruments()

    def check_account(self) -> AccountCheck:
        """Keys valid (the balances are read with them) and clocks in step (the venue's time
        against the clock ccxt signs with)."""
        try:
            skew = self.clock_skew_ms()
        except ccxt.BaseError as exc:
            return AccountCheck(ok=False, code=ErrorCode.NETWORK, detail=f"the venue's time: {str(exc)[:250]}")
        if skew is not None and abs(skew) > settings.CCXT_MAX_CLOCK_SKEW_MS:
            detail = self._clock_message(f"measured {skew} ms")
            self._record_health(ok=False, detail=detail)
            return AccountCheck(ok=False, code=ErrorCode.CLOCK_SKEW, detail=detail, clock_skew_ms=skew)
        try:
            self.get_balances()
        except ccxt.AuthenticationError as exc:
            return AccountCheck(
                ok=False, code=ErrorCode.AUTH_FAILED, detail=f"keys refused: {str(exc)[:250]}", clock_skew_ms=skew
            )
        except ccxt.InvalidNonce as exc:
            return AccountCheck(
                ok=False, code=ErrorCode.CLOCK_SKEW, detail=self._clock_message(str(exc)[:200]), clock_skew_ms=skew
            )
        except ccxt.BaseError as exc:
            return AccountCheck(ok=False, code=ErrorCode.NETWORK, detail=str(exc)[:300], clock_skew_ms=skew)
        return AccountCheck(ok=True, clock_skew_ms=skew)

    def clock_skew_ms(self) -> int | None:
        """Venue time minus the time ccxt signs requests with (its clock less timeDifference)."""
        if not self.exchange.has.get("fetchTime"):
            return None
        before = self.exchange.milliseconds()
        server = self._call(lambda exchange: exchange.fetch_time())
        after = self.exchange.milliseconds()
        ours = (before + after) // 2 - int(self.exchange.options.get("timeDifference") or 0)
        return int(server) - ours

    # Account health

    def _mark_needs_person(self, exc: BaseException) -> None:
        what = "clock out of step" if isinstance(exc, ccxt.InvalidNonce) else "API key refused"
        self._record_health(ok=False, detail=f"{what}: {str(exc)[:250]}")

    def _record_health(self, *, ok: bool, detail: str) -> None:
        if not self.account.key.isdigit():
            return  # not an ExchangeAccount row (ad-hoc configs in scripts and benches)
        try:
            exchange_account_health_record(account_id=int(self.account.key), ok=ok, detail=detail)
        except Exception:
            logger.exception("could not record the health of account %s", self.account.key)
