"""Reads for the desk pages: the review queue, the orders board, and the order form's figures."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from executor.models import ExchangeAccount
from executor.paper.errors import PaperNotFound
from executor.paper.selectors import instrument_get, mark_price, price_get
from executor.selectors import connector_for, desk_account_get
from orders import risk, venue_rules
from orders.models import NEEDS_REVIEW, Fill, Order, OrderStatus, OrderType, RiskLimit
from signals.models import ORDERABLE_STATUSES, Signal, SignalStatus
from signals.services import signal_deadline
from tradedesk.exceptions import ApplicationError
from tradedesk.formatting import places_of
from tradedesk.symbols import split_symbol

logger = logging.getLogger(__name__)

QUEUE_LIMIT = 200
BOARD_LIMIT = 200
HUNDRED = Decimal("100")


def signal_queue(*, status: str = "", symbol: str = "", strategy: str = "") -> QuerySet[Signal]:
    """PENDING and ACCEPTED signals, newest first, each with its latest order's id and status."""
    latest = Order.objects.filter(signal=OuterRef("pk")).order_by("-id")
    queryset = Signal.objects.filter(status__in=ORDERABLE_STATUSES).annotate(
        last_order_id=Subquery(latest.values("id")[:1]), last_order_status=Subquery(latest.values("status")[:1])
    )
    if status in ORDERABLE_STATUSES:
        queryset = queryset.filter(status=status)
    if symbol:
        queryset = queryset.filter(symbol=symbol)
    if strategy:
        queryset = queryset.filter(strategy_name=strategy)
    return queryset.order_by("-created_at", "-id")


def signal_queue_choices() -> dict[str, list[str]]:
    """The symbols and strategies that have signals in the queue, for the filter menus."""
    open_signals = Signal.objects.filter(status__in=ORDERABLE_STATUSES)
    return {
        "symbols": sorted(set(open_signals.values_list("symbol", flat=True))),
        "strategies": sorted(set(open_signals.values_list("strategy_name", flat=True))),
    }


def order_board(
    *,
    status: str = "",
    symbol: str = "",
    origin: str = "",
    day_from: date | None = None,
    day_to: date | None = None,
) -> QuerySet[Order]:
    """Every order, newest first: the desk's own (from signals) and copy trading's (a follower's)."""
    queryset = Order.objects.select_related("signal", "created_by", "follow_settings__user")
    if status in OrderStatus.values:
        queryset = queryset.filter(status=status)
    elif status == NEEDS_REVIEW:
        queryset = queryset.filter(status=OrderStatus.UNKNOWN, needs_review=True)
    if origin == "desk":
        queryset = queryset.filter(follow_settings__isnull=True)
    elif origin == "copy":
        queryset = queryset.filter(follow_settings__isnull=False)
    if symbol:
        queryset = queryset.filter(symbol=symbol)
    zone = timezone.get_current_timezone()
    if day_from:
        queryset = queryset.filter(created_at__gte=datetime.combine(day_from, time.min, tzinfo=zone))
    if day_to:
        queryset = queryset.filter(created_at__lt=datetime.combine(day_to + timedelta(days=1), time.min, tzinfo=zone))
    return queryset.order_by("-created_at", "-id")


def order_symbols() -> list[str]:
    return sorted(set(Order.objects.values_list("symbol", flat=True).distinct()))


@dataclass(frozen=True)
class LimitUse:
    """One risk limit and how much of it the order would use (with today's orders)."""

    label: str
    limit: Decimal | None
    used_before: Decimal
    used_after: Decimal

    @property
    def percent(self) -> Decimal | None:
        if not self.limit:
            return None
        return (self.used_after / self.limit * HUNDRED).quantize(Decimal("0.1"))

    @property
    def percent_text(self) -> str:
        if self.percent is None:
            return ""
        return "<0.1%" if self.percent == 0 and self.used_after > 0 else f"{self.percent}%"

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used_after > self.limit


@dataclass(frozen=True)
class OrderPreview:
    venue_label: str
    venue_price: Decimal | None
    drift_percent: Decimal | None
    reference_price: Decimal | None
    estimated_cost: Decimal | None
    limits: list[LimitUse]
    risk_error: str
    # Decimals the venue uses for prices (its tick) and so for a cost in the quote currency.
    price_places: int | None = None
    cost_places: int | None = None
    # What the order needs from the venue's free balance and what is there (None: not checked).
    balance: venue_rules.BalanceFit | None = None


def venue_price(symbol: str) -> tuple[str, Decimal | None]:
    """The desk venue's current price for `symbol`, if it can tell (never raises)."""
    account = desk_account_get() if settings.EXECUTOR == "exchange" else None
    label = account.label if account else "dry run"
    try:
        price = connector_for(account).last_price(symbol)
        if price is None and account is not None and account.venue == "paper":
            price = _paper_price(account, symbol)
    except Exception as exc:  # a venue that is down must not break the form
        logger.warning("no venue price for %s: %s", symbol, exc)
        price = None
    return label, price


# Quote currencies whose amounts are written with cents when the venue names no tick.
CENT_QUOTES = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "DAI", "EUR", "GBP", "JPY", "TRY"})


def venue_places(symbol: str) -> tuple[int | None, int | None]:
    """(price decimals, cost decimals) for `symbol` at the desk venue: its tick when the venue
    says, else cents for a dollar-like quote, else None (trailing zeros trimmed only)."""
    account = desk_account_get() if settings.EXECUTOR == "exchange" else None
    try:
        instrument = connector_for(account).instruments().get(symbol)
    except Exception as exc:  # the form must work with a venue that does not answer
        logger.warning("no instrument for %s: %s", symbol, exc)
        instrument = None
    tick = places_of(instrument.tick_size) if instrument is not None else None
    if tick is not None:
        return tick, tick
    return None, (2 if split_symbol(symbol)[1] in CENT_QUOTES else None)


def _paper_price(account: ExchangeAccount, symbol: str) -> Decimal | None:
    # The browser connector reads no prices; the paper exchange served by this desk has its feed here.
    if account.base_url and not account.base_url.rstrip("/").startswith(settings.PAPER_BASE_URL.rstrip("/")):
        return None
    try:
        return price_get(symbol=symbol).price
    except PaperNotFound:
        return None


def order_preview(*, signal: Signal, qty: Decimal | None, order_type: str, price: Decimal | None) -> OrderPreview:
    """What confirming would do: cost, venue price and drift, limit usage, and the risk verdict.

    A read without locks: the confirm runs the same checks again under the symbol's lock.
    """
    label, current = venue_price(signal.symbol)
    drift = None
    if current is not None and signal.suggest_price:
        drift = ((current - signal.suggest_price) / signal.suggest_price * HUNDRED).quantize(Decimal("0.01"))
    reference = price if order_type == OrderType.LIMIT else (current or signal.suggest_price)
    qty = qty or Decimal("0")
    cost = reference * qty if reference is not None else None
    limits = risk.limits_for(RiskLimit.objects.filter(symbol=signal.symbol).first())
    usage = risk.daily_usage(signal.symbol)
    uses = [
        LimitUse("Per-order qty", limits.max_order_qty, Decimal("0"), qty),
        LimitUse("Daily qty", limits.max_daily_qty, usage.daily_qty, usage.daily_qty + qty),
        LimitUse("Daily notional", limits.max_daily_notional, usage.daily_notional, usage.daily_notional + (cost or 0)),
    ]
    error = ""
    if qty > 0:
        try:
            risk.check(qty=qty, reference_price=reference, limits=limits, usage=usage)
        except ApplicationError as exc:
            error = exc.message
    price_places, cost_places = venue_places(signal.symbol)
    balance = None
    if qty > 0:
        account = desk_account_get() if settings.EXECUTOR == "exchange" else None
        balance = venue_rules.balance_fit(
            account=account, symbol=signal.symbol, side=signal.side, qty=qty, price=reference
        )
    return OrderPreview(label, current, drift, reference, cost, uses, error, price_places, cost_places, balance)


def signal_orders(signal: Signal) -> QuerySet[Order]:
    return signal.orders.select_related("created_by").order_by("-id")


def signal_history(signal: Signal) -> QuerySet:
    return signal.history.select_related("history_user").order_by("-history_date", "-history_id")


def is_stale(signal: Signal, now: datetime | None = None) -> bool:
    deadline = signal_deadline(signal)
    return signal.status == SignalStatus.PENDING and deadline is not None and deadline <= (now or timezone.now())


@dataclass(frozen=True)
class NetPosition:
    """Opposite signals in the queue for one symbol, and what they add up to."""

    symbol: str
    buy_count: int
    buy_qty: Decimal
    sell_count: int
    sell_qty: Decimal

    @property
    def net_qty(self) -> Decimal:
        return abs(self.buy_qty - self.sell_qty)

    @property
    def net_side(self) -> str:
        if self.buy_qty == self.sell_qty:
            return "FLAT"
        return "BUY" if self.buy_qty > self.sell_qty else "SELL"


def signal_conflicts(*, status: str = "", symbol: str = "", strategy: str = "") -> list[NetPosition]:
    """The symbols with both BUY and SELL signals in the queue (with the page's filters), netted."""
    rows = (
        signal_queue(status=status, symbol=symbol, strategy=strategy)
        .order_by()
        .values("symbol")
        .annotate(
            buy_count=Count("id", filter=Q(side="BUY")),
            buy_qty=Sum("suggest_qty", filter=Q(side="BUY")),
            sell_count=Count("id", filter=Q(side="SELL")),
            sell_qty=Sum("suggest_qty", filter=Q(side="SELL")),
        )
        .filter(buy_count__gt=0, sell_count__gt=0)
        .order_by("symbol")
    )
    return [NetPosition(**row) for row in rows]


CHART_POINTS = 240
CHART_MIN_SPAN = timedelta(minutes=15)
CHART_MAX_SPAN = timedelta(hours=24)


@dataclass(frozen=True)
class PriceHistory:
    """Recent prices of one symbol at the desk venue, for the chart; `points` empty with `note`
    saying why when the venue offers no history."""

    symbol: str
    source: str
    points: list[tuple[datetime, Decimal]]
    note: str = ""


def price_history(*, symbol: str, since: datetime | None = None, now: datetime | None = None) -> PriceHistory:
    """Up to CHART_POINTS prices from `since` (at least the last 15 minutes, at most 24 hours).

    The paper exchange's feed is deterministic (executor/paper/pricing.py): any past second's price
    is computed, not stored, so its history is exact. A connector may offer `recent_prices(symbol,
    since=, step=)`; the dry run and the browser venues have no history to show.
    """
    now = now or timezone.now()
    start = min(since or now, now - CHART_MIN_SPAN)
    start = max(start, now - CHART_MAX_SPAN)
    step = max((now - start) / CHART_POINTS, timedelta(seconds=1))
    account = desk_account_get() if settings.EXECUTOR == "exchange" else None
    label = account.label if account else "dry run"
    try:
        connector = connector_for(account)
        recent = getattr(connector, "recent_prices", None)
        if recent is not None:
            points = list(recent(symbol, since=start, step=step))
            return PriceHistory(symbol, label, points, "" if points else f"no price history from {label}")
        if account is not None and account.venue == "paper" and _serves_paper(account):
            return PriceHistory(symbol, label, _paper_history(symbol, start, now, step), "")
    except Exception as exc:  # a venue that is down must not break the form
        logger.warning("no price history for %s: %s", symbol, exc)
        return PriceHistory(symbol, label, [], f"no price history: {label} did not answer")
    return PriceHistory(symbol, label, [], f"no price history from {label}")


def _serves_paper(account: ExchangeAccount) -> bool:
    return not account.base_url or account.base_url.rstrip("/").startswith(settings.PAPER_BASE_URL.rstrip("/"))


def _paper_history(symbol: str, start: datetime, now: datetime, step: timedelta) -> list[tuple[datetime, Decimal]]:
    instrument = instrument_get(symbol=symbol)
    if instrument is None:
        return []
    points, moment = [], start
    while moment <= now:
        mark = mark_price(instrument=instrument, at=moment)
        if not points or points[-1][0] != mark.time:
            points.append((mark.time, mark.price))
        moment += step
    return points


@dataclass(frozen=True)
class FillMark:
    order_id: int
    side: str
    time: datetime
    price: Decimal
    qty: Decimal


def signal_fills(signal: Signal) -> list[FillMark]:
    """The fills of the signal's orders (the venue's trades; for an order filled without them, one
    mark at its average price when it completed)."""
    marks = [
        FillMark(fill.order_id, fill.order.side, fill.time, fill.price, fill.qty)
        for fill in Fill.objects.filter(order__signal=signal).select_related("order").order_by("time", "id")
    ]
    seen = {mark.order_id for mark in marks}
    for order in signal.orders.filter(avg_fill_price__isnull=False, filled_qty__gt=0).exclude(pk__in=seen):
        marks.append(
            FillMark(
                order.pk, order.side, order.completed_at or order.updated_at, order.avg_fill_price, order.filled_qty
            )
        )
    return sorted(marks, key=lambda mark: mark.time)
