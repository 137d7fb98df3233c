"""Reads for the paper exchange, always scoped to the account asking."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from executor.paper import pricing
from executor.paper.errors import PaperNotFound
from executor.paper.models import (
    OPEN_STATUSES,
    FaultKind,
    PaperAccount,
    PaperBalance,
    PaperBinanceKey,
    PaperFault,
    PaperInstrument,
    PaperOrder,
    PaperPosition,
    PaperSession,
    PaperTrade,
)


@dataclass(frozen=True)
class MarkPrice:
    symbol: str
    price: Decimal
    time: datetime
    source: str  # "walk" or "override"
    # Names the liquidity round this price belongs to: one per walk step, one per override set.
    round: str = ""


def normalize_symbol(raw: str) -> str:
    """'btc-usdt', 'BTC_USDT' and 'BTC/USDT' all name BTC-USDT."""
    return raw.strip().upper().replace("/", "-").replace("_", "-")


def instrument_list() -> QuerySet[PaperInstrument]:
    return PaperInstrument.objects.filter(is_active=True)


def instrument_get(*, symbol: str) -> PaperInstrument | None:
    return instrument_list().filter(symbol=normalize_symbol(symbol)).first()


def mark_price(*, instrument: PaperInstrument, at: datetime | None = None) -> MarkPrice:
    step = pricing.step_at(at or timezone.now())
    moment = pricing.step_time(step)
    if instrument.override_price is not None:
        return MarkPrice(
            instrument.symbol, instrument.override_price, moment, "override", f"o{instrument.override_round}"
        )
    price = pricing.walk_price(
        seed=instrument.seed,
        symbol=instrument.symbol,
        start_price=instrument.start_price,
        volatility=instrument.volatility,
        tick=instrument.tick_size,
        step=step,
    )
    return MarkPrice(instrument.symbol, price, moment, "walk", f"w{step}")


def price_get(*, symbol: str) -> MarkPrice:
    instrument = instrument_get(symbol=symbol)
    if instrument is None:
        raise PaperNotFound(f"no instrument {symbol[:20]}; see /paper/api/instruments")
    return mark_price(instrument=instrument)


def session_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def binance_key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def binance_key_get(*, api_key: str) -> PaperBinanceKey | None:
    """The live key behind an X-MBX-APIKEY value, of an active account, or None."""
    if not api_key or len(api_key) > 128:
        return None
    return (
        PaperBinanceKey.objects.select_related("account")
        .filter(key_hash=binance_key_hash(api_key), revoked_at__isnull=True, account__is_active=True)
        .first()
    )


def session_get(*, token: str | None) -> PaperSession | None:
    """The live session behind a cookie token, or None (unknown, revoked, expired, or ended by a fault)."""
    if not token:
        return None
    session = (
        PaperSession.objects.select_related("account")
        .filter(token_hash=session_token_hash(token), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if session is None or not session.account.is_active:
        return None
    # paper_fault_set revokes the sessions already; this also covers a fault switched on in bulk.
    ended = fault_get(account=session.account, kind=FaultKind.SESSION_EXPIRED)
    if ended is not None and ended.armed_at >= session.created_at:
        return None
    return session


def fault_get(*, account: PaperAccount, kind: str) -> PaperFault | None:
    return PaperFault.objects.filter(account=account, kind=kind, is_active=True).first()


def faults_active(*, account: PaperAccount) -> dict[str, PaperFault]:
    return {fault.kind: fault for fault in PaperFault.objects.filter(account=account, is_active=True)}


def order_list(*, account: PaperAccount, status: str | None = None) -> QuerySet[PaperOrder]:
    orders = PaperOrder.objects.filter(account=account)
    return orders.filter(status=status) if status else orders


def order_list_open(*, account: PaperAccount, symbol: str | None = None) -> QuerySet[PaperOrder]:
    """NEW and PARTIALLY_FILLED orders: the ones that can still fill or be canceled."""
    orders = order_list(account=account).filter(status__in=OPEN_STATUSES)
    return orders.filter(symbol=normalize_symbol(symbol)) if symbol else orders


def trade_list(
    *, account: PaperAccount, symbol: str | None = None, order: PaperOrder | None = None
) -> QuerySet[PaperTrade]:
    """The account's fills, newest first."""
    trades = PaperTrade.objects.filter(account=account).select_related("order")
    if symbol:
        trades = trades.filter(symbol=normalize_symbol(symbol))
    if order is not None:
        trades = trades.filter(order=order)
    return trades


def order_get(*, account: PaperAccount, order_id: str) -> PaperOrder:
    """By exchange order id, 'P-000123' (or the bare number)."""
    number = order_id.upper().removeprefix("P-")
    order = (
        order_list(account=account).filter(pk=int(number)).first() if number.isdigit() and len(number) < 19 else None
    )
    if order is None:
        raise PaperNotFound(f"no order {order_id[:30]} on this account")
    return order


def order_get_by_client_id(*, account: PaperAccount, client_order_id: str) -> PaperOrder:
    order = order_list(account=account).filter(client_order_id=client_order_id).first()
    if order is None:
        raise PaperNotFound(f"no order with client order id {client_order_id[:64]} on this account")
    return order


def balance_list(*, account: PaperAccount) -> QuerySet[PaperBalance]:
    return PaperBalance.objects.filter(account=account).order_by("asset")


def position_list(*, account: PaperAccount) -> QuerySet[PaperPosition]:
    return PaperPosition.objects.filter(account=account).exclude(qty=0).order_by("symbol")


def open_order_count() -> int:
    return PaperOrder.objects.filter(status__in=OPEN_STATUSES).count()
