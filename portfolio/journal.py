"""Reads for the trade journal (orders with their fills and fees) and the per-strategy summary.

Strategy summary, per strategy name (the signals' strategy_name; desk orders only):
- signals: signals the strategy posted; orders: desk orders confirmed from them.
- fill rate: filled qty / ordered qty, over the orders the venue accepted (status SUCCESS);
  orders refused, failed or canceled before they reached the venue are not in it.
- realized P&L: average cost over the strategy's own fills, per symbol (the strategy as its own
  book), after quote- and base-currency fees; summed per quote currency.
- slippage: per fill against its signal's suggest_price, signed so that positive is worse for
  the desk (a BUY above, a SELL below the suggestion), in basis points, weighted by fill qty;
  fills of signals with no suggested price (market) are left out.
- median confirm-to-fill: for orders the venue reports FILLED, the time from the confirm (the
  order's creation) to its last fill.
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from orders.models import Fill, Order, OrderStatus, VenueState
from portfolio.pnl import TradeFill, position_from_fills
from signals.models import Signal
from tradedesk.formatting import decimal_text

ZERO = Decimal("0")
BPS = Decimal("10000")
ORIGIN_DESK, ORIGIN_COPY = "desk", "copy"


def day_bounds(day_from: date | None, day_to: date | None) -> tuple[datetime | None, datetime | None]:
    zone = timezone.get_current_timezone()
    start = datetime.combine(day_from, time.min, tzinfo=zone) if day_from else None
    end = datetime.combine(day_to + timedelta(days=1), time.min, tzinfo=zone) if day_to else None
    return start, end


def journal_fills(
    *,
    symbol: str = "",
    side: str = "",
    strategy: str = "",
    account: int | None = None,
    origin: str = "",
    day_from: date | None = None,
    day_to: date | None = None,
) -> QuerySet[Fill]:
    """Every recorded fill with its order, oldest first; days are the desk's TIME_ZONE days of
    the fill's time."""
    fills = Fill.objects.select_related(
        "order", "order__signal", "order__exchange_account", "order__created_by", "order__follow_settings__user"
    )
    if symbol:
        fills = fills.filter(order__symbol=symbol)
    if side:
        fills = fills.filter(order__side=side)
    if strategy:
        fills = fills.filter(order__signal__strategy_name=strategy)
    if account is not None:
        fills = fills.filter(order__exchange_account_id=account)
    if origin == ORIGIN_DESK:
        fills = fills.filter(order__follow_settings__isnull=True)
    elif origin == ORIGIN_COPY:
        fills = fills.filter(order__follow_settings__isnull=False)
    start, end = day_bounds(day_from, day_to)
    if start:
        fills = fills.filter(time__gte=start)
    if end:
        fills = fills.filter(time__lt=end)
    return fills.order_by("time", "id")


JOURNAL_COLUMNS = [
    "fill_time",
    "order_id",
    "signal_id",
    "strategy",
    "origin",
    "account",
    "venue",
    "symbol",
    "side",
    "order_type",
    "order_price",
    "order_qty",
    "trade_id",
    "fill_qty",
    "fill_price",
    "fill_notional",
    "fee",
    "fee_asset",
    "order_status",
    "venue_state",
    "order_filled_qty",
    "order_avg_fill_price",
    "suggest_price",
    "exchange_order_id",
    "client_order_id",
    "confirmed_by",
    "confirmed_at",
]


def _number(value: Decimal | None) -> str:
    return "" if value is None else decimal_text(value)


def _text(value: str | None) -> str:
    """Text a spreadsheet would run as a formula (=, +, -, @ first) is quoted with an apostrophe:
    strategy names and usernames come from outside the desk."""
    value = value or ""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def journal_row(fill: Fill) -> list[str]:
    order: Order = fill.order
    signal = order.signal
    follow = order.follow_settings
    return [
        timezone.localtime(fill.time).isoformat(),
        str(order.pk),
        str(order.signal_id or ""),
        _text(signal.strategy_name if signal else ""),
        ORIGIN_COPY if follow is not None else ORIGIN_DESK,
        _text(order.exchange_account.label if order.exchange_account else "dry run"),
        _text(order.venue),
        _text(order.symbol),
        order.side,
        order.order_type,
        _number(order.price),
        _number(order.qty),
        _text(fill.trade_id),
        _number(fill.qty),
        _number(fill.price),
        _number(fill.qty * fill.price),
        _number(fill.fee),
        _text(fill.fee_asset),
        order.status,
        order.venue_state,
        _number(order.filled_qty),
        _number(order.avg_fill_price),
        _number(signal.suggest_price if signal else None),
        _text(order.exchange_order_id),
        order.client_order_id,
        _text(order.created_by.get_username() if order.created_by else ""),
        timezone.localtime(order.created_at).isoformat(),
    ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def journal_csv_lines(fills: Iterable[Fill]) -> Iterator[str]:
    """The journal as CSV lines: a header, then one row per fill (for a streaming response)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(JOURNAL_COLUMNS)
    for fill in fills:
        yield writer.writerow(journal_row(fill))


# --- strategy summary --------------------------------------------------------------------------


@dataclass
class StrategySummary:
    strategy: str
    signals: int = 0
    orders: int = 0
    orders_accepted: int = 0
    orders_filled: int = 0
    ordered_qty: Decimal = ZERO  # of the accepted orders
    filled_qty: Decimal = ZERO
    realized_pnl: dict[str, Decimal] = field(default_factory=dict)  # per quote currency
    fees: dict[str, Decimal] = field(default_factory=dict)
    slippage_bps: Decimal | None = None
    median_confirm_to_fill_seconds: float | None = None

    @property
    def fill_rate(self) -> Decimal | None:
        return None if not self.ordered_qty else self.filled_qty / self.ordered_qty


def strategy_summary(*, day_from: date | None = None, day_to: date | None = None) -> list[StrategySummary]:
    """One row per strategy with signals in the period (days of the signals' creation)."""
    start, end = day_bounds(day_from, day_to)
    signals = Signal.objects.all()
    if start:
        signals = signals.filter(created_at__gte=start)
    if end:
        signals = signals.filter(created_at__lt=end)
    rows: dict[str, StrategySummary] = {}
    for name in signals.values_list("strategy_name", flat=True):
        rows.setdefault(name, StrategySummary(strategy=name)).signals += 1

    orders = Order.objects.filter(signal__in=signals, follow_settings__isnull=True).select_related("signal")
    fills_by_order: dict[int, list[Fill]] = defaultdict(list)
    for fill in Fill.objects.filter(order__in=orders).order_by("time", "id"):
        fills_by_order[fill.order_id].append(fill)

    book: dict[tuple[str, str], list[tuple[datetime, int, TradeFill]]] = defaultdict(list)
    slippage: dict[str, list[tuple[Decimal, Decimal]]] = defaultdict(list)  # (bps, qty)
    waits: dict[str, list[float]] = defaultdict(list)
    for order in orders:
        row = rows[order.signal.strategy_name]
        row.orders += 1
        fills = fills_by_order.get(order.pk, [])
        if order.status == OrderStatus.SUCCESS:
            row.orders_accepted += 1
            row.ordered_qty += order.qty
            row.filled_qty += sum((fill.qty for fill in fills), ZERO)
        for fill in fills:
            trade = TradeFill(order.side, fill.qty, fill.price, fill.fee, fill.fee_asset, fill.time)
            book[(row.strategy, order.symbol)].append((fill.time, fill.pk, trade))
            suggested = order.signal.suggest_price
            if suggested:
                signed = (fill.price - suggested) if order.side == "BUY" else (suggested - fill.price)
                slippage[row.strategy].append((signed / suggested * BPS, fill.qty))
        if order.venue_state == VenueState.FILLED and fills:
            row.orders_filled += 1
            waits[row.strategy].append((fills[-1].time - order.created_at).total_seconds())

    for (strategy, symbol), trades in book.items():
        trades.sort(key=lambda item: (item[0], item[1]))
        position = position_from_fills(symbol, [trade for _, _, trade in trades])
        quote = position.quote or "?"
        row = rows[strategy]
        row.realized_pnl[quote] = row.realized_pnl.get(quote, ZERO) + position.realized_pnl
        row.fees[quote] = row.fees.get(quote, ZERO) + position.fees
    for strategy, samples in slippage.items():
        qty = sum((q for _, q in samples), ZERO)
        rows[strategy].slippage_bps = sum((bps * q for bps, q in samples), ZERO) / qty
    for strategy, seconds in waits.items():
        rows[strategy].median_confirm_to_fill_seconds = statistics.median(seconds)
    return sorted(rows.values(), key=lambda row: row.strategy)
