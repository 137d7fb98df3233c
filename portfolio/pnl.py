"""Position and P&L from a list of fills, by the average-cost method. Pure maths: no models.

Average cost: a fill that adds to the position (a BUY on a long or flat position, a SELL on a
short one) moves the average entry to the quantity-weighted mean of the old entry and the fill
price. A fill that reduces it realizes (fill price - average entry) x closed qty (sign flipped
for a short) and leaves the average entry as it was; a fill larger than the position closes it
and opens the rest on the other side at the fill price.

Fees: a fee in the quote currency (USDT of BTC/USDT) is subtracted from realized P&L when it is
charged. A fee in the base currency (BTC) leaves the holding smaller by the fee, as the venue
does; its cost (fee x average entry) comes off realized P&L. Fees in any other asset (BNB...)
are not converted: they are listed per asset in `other_fees` and are not in the P&L.
Realized P&L is after fees; unrealized is qty x (last price - average entry).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tradedesk.symbols import split_symbol

ZERO = Decimal("0")


@dataclass(frozen=True)
class TradeFill:
    side: str  # BUY or SELL
    qty: Decimal
    price: Decimal
    fee: Decimal = ZERO
    fee_asset: str = ""
    time: datetime | None = None


@dataclass
class PositionPnl:
    symbol: str
    base: str
    quote: str
    qty: Decimal = ZERO  # negative for a short
    avg_entry: Decimal | None = None
    realized_pnl: Decimal = ZERO  # after fees, in the quote currency
    fees: Decimal = ZERO  # quote and base fees, valued in the quote currency
    other_fees: dict[str, Decimal] = field(default_factory=dict)
    bought_qty: Decimal = ZERO
    sold_qty: Decimal = ZERO
    fills: int = 0
    last_price: Decimal | None = None

    @property
    def unrealized_pnl(self) -> Decimal | None:
        if self.qty == ZERO:
            return ZERO
        if self.last_price is None or self.avg_entry is None:
            return None
        return self.qty * (self.last_price - self.avg_entry)

    @property
    def market_value(self) -> Decimal | None:
        return None if self.last_price is None else self.qty * self.last_price


def position_from_fills(symbol: str, fills: Iterable[TradeFill], last_price: Decimal | None = None) -> PositionPnl:
    """Apply the fills in the order given (oldest first) to a flat position."""
    base, quote = split_symbol(symbol)
    position = PositionPnl(symbol=symbol, base=base, quote=quote, last_price=last_price)
    for fill in fills:
        _apply(position, fill)
    return position


def _apply(position: PositionPnl, fill: TradeFill) -> None:
    signed = fill.qty if fill.side == "BUY" else -fill.qty
    position.fills += 1
    if fill.side == "BUY":
        position.bought_qty += fill.qty
    else:
        position.sold_qty += fill.qty
    _trade(position, signed, fill.price)
    _charge(position, fill)


def _trade(position: PositionPnl, signed: Decimal, price: Decimal) -> None:
    qty = position.qty
    if qty == ZERO or (qty > ZERO) == (signed > ZERO):
        total = qty + signed
        old_cost = abs(qty) * (position.avg_entry or ZERO)
        position.avg_entry = (old_cost + abs(signed) * price) / abs(total)
        position.qty = total
        return
    closed = min(abs(qty), abs(signed))
    direction = Decimal(1) if qty > ZERO else Decimal(-1)
    position.realized_pnl += closed * (price - position.avg_entry) * direction
    position.qty = qty + signed
    if position.qty == ZERO:
        position.avg_entry = None
    elif (position.qty > ZERO) != (qty > ZERO):
        position.avg_entry = price  # flipped: the rest opens on the other side at this price


def _charge(position: PositionPnl, fill: TradeFill) -> None:
    if not fill.fee:
        return
    asset = fill.fee_asset.upper()
    if asset and asset == position.quote:
        position.fees += fill.fee
        position.realized_pnl -= fill.fee
    elif asset and asset == position.base:
        # The venue keeps the fee out of the holding: the position shrinks by it, at its cost.
        cost = fill.fee * (position.avg_entry if position.avg_entry is not None else fill.price)
        position.fees += cost
        position.realized_pnl -= cost
        position.qty -= fill.fee
        if position.qty == ZERO:
            position.avg_entry = None
    else:
        key = asset or "?"
        position.other_fees[key] = position.other_fees.get(key, ZERO) + fill.fee
