"""Copy-trading statistics (seed 000, next step 4): per follower and per master, the copied trades,
their success rate, realized and unrealized P&L, fees, slippage and the errors by type.

Reads only. Everything comes from the desk's own records of the follower orders: the order rows
(status), their fills (orders.models.Fill) and the trade error ledger. P&L is portfolio's average
cost maths (portfolio.pnl) over each follower account's copied fills, symbol by symbol; the last
price for unrealized P&L is portfolio's cached venue read.

Definitions (the README's "Copy-trading statistics" says the same):
- copied trades: follower orders the venue accepted (SUCCESS); failed: FAILED; in flight:
  SUBMITTING or UNKNOWN (not counted either way until the venue settles them);
- success rate: accepted / (accepted + failed), None with neither;
- slippage of an order: its average fill price against the master's fill price the slippage guard
  recorded (following.models.CopyTrade), else the order's reference price (the master's price the
  sync copied), in basis points, positive when the follower paid more on a BUY or got less on a
  SELL; per group: the quantity-weighted mean, the worst, and its cost in the quote currency;
- errors by type: the trade errors of the follower (per master: those of the follows of it, and
  of its copy orders).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet

from executor.models import ExchangeAccount
from following.models import FollowSettings, TradeError
from orders.models import IN_FLIGHT_STATUSES, Fill, Order, OrderStatus
from portfolio.pnl import PositionPnl, TradeFill, position_from_fills
from portfolio.selectors import last_price
from tradedesk.formatting import decimal_text
from tradedesk.symbols import split_symbol

ZERO = Decimal("0")
BPS = Decimal("10000")
PriceFor = Callable[[ExchangeAccount, str], Decimal | None]


@dataclass
class SlippageStats:
    orders: int = 0  # filled orders with a reference price
    filled_qty: Decimal = ZERO
    weighted_bps: Decimal = ZERO  # sum of bps x qty, for the mean
    worst_bps: Decimal | None = None
    cost_by_quote: dict[str, Decimal] = field(default_factory=dict)

    @property
    def avg_bps(self) -> Decimal | None:
        return self.weighted_bps / self.filled_qty if self.filled_qty else None

    def add(self, *, bps: Decimal, qty: Decimal, cost: Decimal, quote: str) -> None:
        self.orders += 1
        self.filled_qty += qty
        self.weighted_bps += bps * qty
        self.worst_bps = bps if self.worst_bps is None else max(self.worst_bps, bps)
        self.cost_by_quote[quote] = self.cost_by_quote.get(quote, ZERO) + cost


@dataclass
class CopyStats:
    orders: int = 0
    copied: int = 0
    failed: int = 0
    in_flight: int = 0
    canceled: int = 0
    positions: list[tuple[ExchangeAccount, PositionPnl]] = field(default_factory=list)
    slippage: SlippageStats = field(default_factory=SlippageStats)
    errors_by_type: dict[str, int] = field(default_factory=dict)
    followers: int = 0

    @property
    def success_rate(self) -> Decimal | None:
        settled = self.copied + self.failed
        return Decimal(self.copied) / Decimal(settled) if settled else None

    def totals_by_quote(self) -> dict[str, dict[str, Decimal | None]]:
        """Realized and unrealized P&L and fees per quote currency (USDT and USD are not added
        together); unrealized is None when a position in it has no last price."""
        totals: dict[str, dict[str, Decimal | None]] = {}
        for _, pnl in self.positions:
            row = totals.setdefault(pnl.quote or "?", {"realized_pnl": ZERO, "unrealized_pnl": ZERO, "fees": ZERO})
            row["realized_pnl"] += pnl.realized_pnl
            row["fees"] += pnl.fees
            unrealized = pnl.unrealized_pnl
            row["unrealized_pnl"] = (
                None if unrealized is None or row["unrealized_pnl"] is None else row["unrealized_pnl"] + unrealized
            )
        return totals


def follower_stats(*, user: User, price_for: PriceFor | None = None) -> CopyStats:
    """The statistics of one follower's copy trading, over every master it follows or followed."""
    orders = Order.objects.filter(follow_settings__user=user)
    errors = TradeError.objects.filter(user=user)
    stats = _stats(orders, errors, price_for)
    stats.followers = 1
    return stats


def master_stats(*, credential_id: int, price_for: PriceFor | None = None) -> CopyStats:
    """The statistics of everyone copying one master account, added up over its followers."""
    followers = FollowSettings.objects.filter(master_credential=credential_id)
    orders = Order.objects.filter(follow_settings__in=followers.values("id"))
    errors = TradeError.objects.filter(
        Q(follow_settings__in=followers.values("id")) | Q(trade_log__follow_settings__in=followers.values("id"))
    ).distinct()
    stats = _stats(orders, errors, price_for)
    stats.followers = orders.values("follow_settings__user_id").distinct().count()
    return stats


def _stats(orders: QuerySet[Order], errors: QuerySet[TradeError], price_for: PriceFor | None) -> CopyStats:
    stats = CopyStats()
    counts = dict(orders.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    stats.orders = sum(counts.values())
    stats.copied = counts.get(OrderStatus.SUCCESS, 0)
    stats.failed = counts.get(OrderStatus.FAILED, 0)
    stats.canceled = counts.get(OrderStatus.CANCELED, 0)
    stats.in_flight = sum(counts.get(status, 0) for status in IN_FLIGHT_STATUSES)
    by_type = errors.order_by().values_list("error_type").annotate(n=Count("id", distinct=True))
    stats.errors_by_type = dict(by_type.values_list("error_type", "n"))
    fills = _fills_by_order(orders)
    _add_positions(stats, orders, fills, price_for or _venue_price())
    _add_slippage(stats, orders, fills)
    return stats


def _fills_by_order(orders: QuerySet[Order]) -> dict[int, list[TradeFill]]:
    rows = (
        Fill.objects.filter(order__in=orders.values("id"))
        .order_by("time", "id")
        .values_list("order_id", "order__side", "qty", "price", "fee", "fee_asset", "time")
    )
    found: dict[int, list[TradeFill]] = defaultdict(list)
    for order_id, side, qty, price, fee, fee_asset, time in rows:
        found[order_id].append(TradeFill(side, qty, price, fee or ZERO, fee_asset, time))
    return found


def _add_positions(
    stats: CopyStats, orders: QuerySet[Order], fills: dict[int, list[TradeFill]], price_for: PriceFor
) -> None:
    """One position per follower account and symbol from its copied fills, oldest first."""
    by_position: dict[tuple[int, str], list[TradeFill]] = defaultdict(list)
    accounts: dict[int, ExchangeAccount] = {}
    rows = orders.filter(id__in=list(fills)).select_related("exchange_account").order_by("created_at", "id")
    for order in rows:
        if order.exchange_account is None:
            continue
        accounts[order.exchange_account_id] = order.exchange_account
        by_position[(order.exchange_account_id, order.symbol)].extend(fills[order.pk])
    for (account_id, symbol), trade_fills in sorted(by_position.items()):
        account = accounts[account_id]
        pnl = position_from_fills(symbol, sorted(trade_fills, key=_fill_time))
        pnl.last_price = price_for(account, symbol) if pnl.qty else None
        stats.positions.append((account, pnl))


def _fill_time(fill: TradeFill):
    return fill.time


def _add_slippage(stats: CopyStats, orders: QuerySet[Order], fills: dict[int, list[TradeFill]]) -> None:
    rows = orders.filter(id__in=list(fills)).values_list(
        "id", "symbol", "side", "reference_price", "copy_trade__master_price"
    )
    for order_id, symbol, side, reference_price, master_price in rows:
        # The master's fill price the slippage guard recorded, else the price the order copied.
        reference = master_price or reference_price
        qty, avg = _average(fills[order_id])
        if not qty or not reference:
            continue
        sign = Decimal(1) if side == "BUY" else Decimal(-1)
        bps = sign * (avg - reference) / reference * BPS
        quote = split_symbol(symbol)[1] or "?"
        stats.slippage.add(bps=bps, qty=qty, cost=sign * (avg - reference) * qty, quote=quote)


def _average(fills: Iterable[TradeFill]) -> tuple[Decimal, Decimal]:
    qty = sum((fill.qty for fill in fills), ZERO)
    if not qty:
        return ZERO, ZERO
    return qty, sum((fill.qty * fill.price for fill in fills), ZERO) / qty


def _venue_price() -> PriceFor:
    """The last price per venue and symbol, asked once per call of the statistics (portfolio's
    venue read, itself cached for a few seconds)."""
    known: dict[tuple[str, str, str], Decimal | None] = {}

    def price(account: ExchangeAccount, symbol: str) -> Decimal | None:
        key = (account.venue, account.base_url or "", symbol)
        if key not in known:
            known[key] = last_price(account, symbol)
        return known[key]

    return price


def stats_as_dict(stats: CopyStats) -> dict:
    """The statistics as the API and the dashboard show them (Decimals as strings)."""
    return {
        "followers": stats.followers,
        "orders": stats.orders,
        "copied_trades": stats.copied,
        "failed": stats.failed,
        "in_flight": stats.in_flight,
        "canceled": stats.canceled,
        "success_rate": _s(stats.success_rate, places=4),
        "pnl_by_quote": {
            quote: {name: _s(value) for name, value in values.items()}
            for quote, values in sorted(stats.totals_by_quote().items())
        },
        "positions": [
            {
                "exchange_account_id": account.pk,
                "symbol": pnl.symbol,
                "qty": _s(pnl.qty),
                "avg_entry": _s(pnl.avg_entry),
                "last_price": _s(pnl.last_price),
                "realized_pnl": _s(pnl.realized_pnl),
                "unrealized_pnl": _s(pnl.unrealized_pnl),
                "fees": _s(pnl.fees),
                "other_fees": {asset: _s(value) for asset, value in pnl.other_fees.items()},
                "fills": pnl.fills,
            }
            for account, pnl in stats.positions
        ],
        "slippage": {
            "orders": stats.slippage.orders,
            "avg_bps": _s(stats.slippage.avg_bps, places=2),
            "worst_bps": _s(stats.slippage.worst_bps, places=2),
            "cost_by_quote": {quote: _s(value) for quote, value in sorted(stats.slippage.cost_by_quote.items())},
        },
        "errors_by_type": dict(sorted(stats.errors_by_type.items())),
    }


def _s(value: Decimal | None, places: int | None = None) -> str | None:
    if value is None:
        return None
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    return decimal_text(value)
