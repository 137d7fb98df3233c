"""The venue's own trading rules, checked when a trader confirms an order (before any row is
written), so an order the venue would refuse is refused at once with the field named.

For every connector that reports instruments() (ccxt, the paper API, a browser profile with
rules): the symbol is listed (`symbol`), the quantity is on the lot step and at least the
minimum (`qty`), a LIMIT price is on the tick (`price`), and quantity x price reaches the
minimum notional (`qty`; a MARKET order is valued at its reference price, and with no price
known the venue's own check at placement decides). A venue that reports no instruments (dry
run, a browser profile without rules) is not checked here.

Instruments are cached per account in Django's cache (Redis in production, so every process
shares what beat's `refresh-venue-instruments` read) and trusted for VENUE_RULES_TTL seconds.
When they are older and the venue cannot be read, the last known ones are used: trading rules
change rarely and the venue still checks at placement. When none were ever read and the venue
cannot be read, the confirm is refused with 503 `venue_rules_unavailable` (nothing is written,
the trader can try again): the desk does not guess rules it has never seen.

Balances: a BUY must fit the free quote balance (qty x limit price, or x the reference price
for a MARKET order) and a SELL the free base holding, at the account's venue (`qty`, code
`insufficient_balance`). Not checked for the dry run, browser accounts, venues that report no
balances, or when the balances cannot be read (see balance_fit).

`venue_rules_check` is the one entry point order_create calls. A refusal from it is marked as a
venue check for the refusal record (portfolio.ConfirmRefusal) and carries the figures compared.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from rest_framework import status

from executor.connectors.base import Instrument
from executor.models import ExchangeAccount
from executor.selectors import connector_for
from tradedesk.exceptions import ApplicationError, InvalidInput
from tradedesk.formatting import decimal_text
from tradedesk.symbols import split_symbol

logger = logging.getLogger(__name__)

# Cached rules are kept this long past their TTL as "last known" for when the venue is down.
_KEEP_SECONDS = 7 * 24 * 3600


class VenueRulesUnavailable(ApplicationError):
    code = "venue_rules_unavailable"
    http_status = status.HTTP_503_SERVICE_UNAVAILABLE


def venue_rules_check(
    *,
    account: ExchangeAccount | None,
    symbol: str,
    side: str,
    order_type: str,
    qty: Decimal,
    price: Decimal | None,
    reference_price: Decimal | None,
) -> None:
    """Refuse (InvalidInput naming the field) an order the account's venue would refuse: its
    trading rules, then its balances."""
    if account is None:
        return  # the dry run has no venue rules and no balances
    try:
        instrument = _check_rules(
            account=account, symbol=symbol, order_type=order_type, qty=qty, price=price, reference_price=reference_price
        )
        _check_balance(
            account=account,
            instrument=instrument,
            symbol=symbol,
            side=side,
            qty=qty,
            price=price if order_type == "LIMIT" else reference_price,
        )
    except ApplicationError as exc:
        exc.refusal_category = "venue"  # kept with the refusal's record (portfolio.ConfirmRefusal)
        raise


def _check_rules(
    *,
    account: ExchangeAccount,
    symbol: str,
    order_type: str,
    qty: Decimal,
    price: Decimal | None,
    reference_price: Decimal | None,
) -> Instrument | None:
    instruments = instruments_for(account)
    if not instruments:
        return None
    instrument = instruments.get(symbol)
    if instrument is None:
        raise InvalidInput(
            f"{symbol} is not listed at {account.label}; pick one of its symbols",
            field="symbol",
            code="symbol_not_listed",
            figures={"symbol": symbol, "listed": len(instruments)},
        )
    _check_qty(instrument, qty)
    if order_type == "LIMIT" and price is not None:
        _check_price(instrument, price)
    _check_notional(instrument, qty, price if order_type == "LIMIT" else reference_price)
    return instrument


def _check_qty(instrument: Instrument, qty: Decimal) -> None:
    if instrument.lot_size and qty % instrument.lot_size:
        raise InvalidInput(
            f"must be a multiple of {instrument.symbol}'s lot step {decimal_text(instrument.lot_size)} "
            f"(e.g. {decimal_text(qty - qty % instrument.lot_size)})",
            field="qty",
            code="qty_off_step",
            figures={"qty": qty, "lot_size": instrument.lot_size},
        )
    if instrument.min_qty and qty < instrument.min_qty:
        raise InvalidInput(
            f"must be at least {instrument.symbol}'s minimum {decimal_text(instrument.min_qty)}",
            field="qty",
            code="qty_below_min",
            figures={"qty": qty, "min_qty": instrument.min_qty},
        )


def _check_price(instrument: Instrument, price: Decimal) -> None:
    if instrument.tick_size and price % instrument.tick_size:
        raise InvalidInput(
            f"must be a multiple of {instrument.symbol}'s tick {decimal_text(instrument.tick_size)}",
            field="price",
            code="price_off_tick",
            figures={"price": price, "tick_size": instrument.tick_size},
        )


def _check_notional(instrument: Instrument, qty: Decimal, price: Decimal | None) -> None:
    if not instrument.min_notional or price is None:
        return
    if qty * price < instrument.min_notional:
        raise InvalidInput(
            f"{decimal_text(qty)} x {decimal_text(price)} = {decimal_text(qty * price)} {instrument.quote} "
            f"is below {instrument.symbol}'s minimum "
            f"order value {decimal_text(instrument.min_notional)} {instrument.quote}",
            field="qty",
            code="below_min_notional",
            figures={"qty": qty, "price": price, "notional": qty * price, "min_notional": instrument.min_notional},
        )


@dataclass(frozen=True)
class BalanceFit:
    """What an order needs from the account's free balance, and what the venue says is there."""

    asset: str
    needed: Decimal
    available: Decimal

    @property
    def fits(self) -> bool:
        return self.needed <= self.available


def balance_fit(
    *,
    account: ExchangeAccount | None,
    symbol: str,
    side: str,
    qty: Decimal,
    price: Decimal | None,
    instrument: Instrument | None = None,
) -> BalanceFit | None:
    """A BUY needs qty x price of the quote asset, a SELL qty of the base asset, free (not held
    by open orders) at the venue. Fees are not added: the venue's own check at placement covers
    them. None when not checked: the dry run, browser accounts (their balances are read only by
    the browser worker that owns them), a venue that reports no balances, a MARKET BUY with no
    price to value it at, or a venue that cannot be read right now (logged; the venue still
    refuses an unaffordable order at placement, FAILED INSUFFICIENT_BALANCE)."""
    if account is None or account.connector == "browser":
        return None
    base, quote = (instrument.base, instrument.quote) if instrument and instrument.base else split_symbol(symbol)
    asset = quote if side == "BUY" else base
    if not asset or (side == "BUY" and price is None):
        return None
    try:
        balances = connector_for(account).get_balances()
    except Exception as exc:
        logger.warning("balances of account %s unavailable at confirm: %s", account.pk, exc)
        return None
    if not balances:
        return None
    free = next((row.free for row in balances if row.asset.upper() == asset), Decimal("0"))
    return BalanceFit(asset=asset, needed=qty * price if side == "BUY" else qty, available=free)


def _check_balance(
    *,
    account: ExchangeAccount,
    instrument: Instrument | None,
    symbol: str,
    side: str,
    qty: Decimal,
    price: Decimal | None,
) -> None:
    fit = balance_fit(account=account, symbol=symbol, side=side, qty=qty, price=price, instrument=instrument)
    if fit is None or fit.fits:
        return
    what = (
        f"{decimal_text(qty)} x {decimal_text(price)} = {decimal_text(fit.needed)} {fit.asset}"
        if side == "BUY"
        else f"{decimal_text(qty)} {fit.asset}"
    )
    raise InvalidInput(
        f"a {side} of {what} does not fit the {decimal_text(fit.available)} {fit.asset} available at {account.label}",
        field="qty",
        code="insufficient_balance",
        figures={"side": side, "asset": fit.asset, "needed": fit.needed, "available": fit.available},
    )


def _cache_key(account: ExchangeAccount) -> str:
    # updated_at moves whenever the account's venue, address or keys change: fresh rules then.
    stamp = account.updated_at.timestamp() if account.updated_at else 0
    return f"venue_rules:{account.pk}:{stamp}"


def instruments_for(account: ExchangeAccount) -> dict[str, Instrument]:
    """The account's instruments: cached, read again after VENUE_RULES_TTL, the last known ones
    when the venue cannot be read, VenueRulesUnavailable when none are known."""
    key = _cache_key(account)
    cached = _cache_get(key)
    if cached is not None and time.time() - cached[0] < settings.VENUE_RULES_TTL:
        return cached[1]
    try:
        return instruments_refresh(account=account)
    except Exception as exc:
        logger.warning("instruments of account %s unavailable: %s", account.pk, exc)
        if cached is not None:
            return cached[1]
        raise VenueRulesUnavailable(
            f"{account.label}'s trading rules (lot step, minimums) cannot be read right now: {str(exc)[:200]}; "
            "nothing was ordered, try again in a moment",
            code="venue_rules_unavailable",
        ) from exc


def instruments_refresh(*, account: ExchangeAccount) -> dict[str, Instrument]:
    """Ask the venue for its instruments now and cache them (beat's scheduled refresh)."""
    connector = connector_for(account)
    refresh = getattr(connector, "refresh_instruments", None)
    instruments = refresh() if refresh else connector.instruments()
    _cache_set(_cache_key(account), (time.time(), instruments))
    return instruments


def _cache_get(key: str):
    try:
        return cache.get(key)
    except Exception as exc:  # the shared cache is down: ask the venue instead
        logger.warning("venue rules cache unavailable: %s", exc)
        return None


def _cache_set(key: str, value) -> None:
    try:
        cache.set(key, value, timeout=settings.VENUE_RULES_TTL + _KEEP_SECONDS)
    except Exception as exc:
        logger.warning("venue rules cache unavailable: %s", exc)
