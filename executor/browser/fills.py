"""An order's fills read off the venue's trade history (the profile's `trades:`), with fees.

Rows are tied to the order by the venue's order id when the history shows one. A venue whose
history shows no order id is matched by the order's side (and symbol, when a column) and time
from the submit on; that is weaker, so it stops as soon as the rows found add up to the quantity
the order list says is filled.

A fill's id is the venue's trade id when the history shows one. Otherwise it is derived from the
row's own content (order id, time, side, price, qty, fee), plus the row's rank among identical
rows counted from the oldest: the same row read on a later refresh gets the same id, so the desk
(unique per order and trade id) never records it twice, and two identical fills in the same
second stay two.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from executor.browser.profile import Numbers, Profile, Trades
from executor.browser.rows import Row, _norm
from executor.connectors.base import Fill, OrderResult, OrderTicket

logger = logging.getLogger(__name__)


def trade_time(row: Row, trades: Trades) -> datetime | None:
    text = row.get("time")
    if not text:
        return None
    try:
        return datetime.strptime(text, trades.time_format).replace(tzinfo=ZoneInfo(trades.time_zone))
    except ValueError:
        return None


def _asset(text: str) -> str:
    """'0.0065 USDT' -> 'USDT' (the fee and its asset may share one cell)."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9]*", text or "")
    return words[-1].upper() if words else ""


class TradeMatcher:
    """Is a history row a trade of this order?"""

    def __init__(self, profile: Profile, ticket: OrderTicket | None, exchange_order_id: str) -> None:
        self.trades: Trades = profile.trades
        self.exchange_order_id = exchange_order_id
        self.ticket = ticket
        self.since = None
        if ticket is not None and ticket.submitted_at is not None:
            self.since = ticket.submitted_at - timedelta(seconds=self.trades.time_slack)
        self.sides, self.symbols = set(), set()
        if ticket is not None:
            side = profile.values.get("side", {}).get(ticket.side, ticket.side)
            self.sides = {_norm(ticket.side), _norm(side)}
            self.symbols = {_norm(ticket.symbol), _norm(profile.venue_symbol(ticket.symbol))}

    @property
    def usable(self) -> bool:
        if self.trades.by == "order_id":
            return bool(self.exchange_order_id)
        return self.ticket is not None and self.since is not None

    def too_old(self, row: Row) -> bool:
        when = trade_time(row, self.trades)
        return bool(self.since and when and when < self.since)

    def matches(self, row: Row) -> bool:
        if self.trades.by == "order_id":
            return row.get("order_id").strip() == self.exchange_order_id
        if _norm(row.get("side")) not in self.sides:
            return False
        if "symbol" in self.trades.columns and _norm(row.get("symbol")) not in self.symbols:
            return False
        when = trade_time(row, self.trades)
        return when is not None and not self.too_old(row)


def fills_from(rows: list[Row], trades: Trades, numbers: Numbers) -> list[Fill]:
    """The matched rows (newest first, as listed) as Fills, oldest first."""
    fills, seen = [], {}
    for row in reversed(rows):
        qty, price = numbers.parse(row.get("qty")), numbers.parse(row.get("price"))
        if qty is None or price is None:
            continue
        fee = numbers.parse(row.get("fee")) if row.get("fee") else None
        trade_id = row.get("trade_id").strip()
        if not trade_id:
            content = "|".join(row.get(name).strip() for name in ("order_id", "time", "side", "price", "qty", "fee"))
            seen[content] = seen.get(content, 0) + 1
            digest = hashlib.sha256(content.encode()).hexdigest()[:16]
            trade_id = f"row-{digest}-{seen[content]}"
        fills.append(
            Fill(
                trade_id=trade_id[:64],
                qty=qty,
                price=price,
                fee=fee if fee is not None else Decimal("0"),
                fee_asset=_asset(row.get("fee_asset")),
                time=trade_time(row, trades),
            )
        )
    return fills


def with_fills(result: OrderResult, fills: list[Fill]) -> OrderResult:
    """The result with its fills and their total fee (when every fee is in one asset)."""
    if not fills:
        return result
    assets = {fill.fee_asset for fill in fills if fill.fee}
    fee, fee_asset = result.fee, result.fee_asset
    if len(assets) <= 1:
        fee = sum((fill.fee for fill in fills), Decimal("0"))
        fee_asset = next(iter(assets), "") or next((fill.fee_asset for fill in fills if fill.fee_asset), "")
    else:  # fees in several assets have no one total; each fill keeps its own
        logger.info("order %s: fees in %s, no single total", result.client_order_id, sorted(assets))
    return replace(result, fills=tuple(fills), fee=fee, fee_asset=fee_asset)
