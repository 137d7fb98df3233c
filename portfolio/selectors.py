"""Reads for positions, balances and P&L per exchange account.

The desk's view comes from its own fills (portfolio.pnl, average cost); the venue's from the
account's connector (positions, balances, last prices). The two are compared per symbol: a
position the fills do not explain is a drift warning (deposits, trades made outside the desk,
fills not recorded yet), never silently corrected.

Venue reads are network calls: each is cached for PORTFOLIO_VENUE_CACHE_SECONDS, so a live page
re-rendered on every order event does not ask the venue each time. Browser accounts are read
only by the browser worker that owns them (a task on the account's queue writes the same cache);
the web process never drives a browser.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from celery import signature
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from executor.connectors.base import Balance, Position
from executor.models import ConnectorKind, ExchangeAccount
from executor.selectors import connector_for, task_queue_for
from orders.models import Fill
from portfolio.journal import day_bounds
from portfolio.models import ConfirmRefusal
from portfolio.pnl import PositionPnl, TradeFill, position_from_fills

logger = logging.getLogger(__name__)

ZERO = Decimal("0")
# Venues round quantities; a difference below this is no drift.
DRIFT_TOLERANCE = Decimal("0.00000001")
DRY_RUN_KEY = "dry_run"


@dataclass
class VenueRead:
    """A venue answer (or why there is none), with when it was read."""

    value: Any = None
    error: str = ""
    read_at: Any = None

    @property
    def ok(self) -> bool:
        return not self.error and self.value is not None


@dataclass
class PositionRow:
    pnl: PositionPnl
    venue_qty: Decimal | None = None  # None: the venue's position is not known
    venue_avg_price: Decimal | None = None

    @property
    def drift(self) -> Decimal | None:
        if self.venue_qty is None:
            return None
        difference = self.venue_qty - self.pnl.qty
        return difference if abs(difference) > DRIFT_TOLERANCE else ZERO

    @property
    def has_drift(self) -> bool:
        return bool(self.drift)


@dataclass
class AccountPortfolio:
    key: str  # the account id, or "dry_run"
    account_id: int | None
    label: str
    venue: str
    connector: str
    rows: list[PositionRow] = field(default_factory=list)
    venue_positions: VenueRead = field(default_factory=VenueRead)
    balances: VenueRead = field(default_factory=VenueRead)

    @property
    def balance_rows(self) -> list:
        return balances_of(self)

    @property
    def drifts(self) -> list[PositionRow]:
        return [row for row in self.rows if row.has_drift]

    def totals_by_quote(self) -> dict[str, dict[str, Decimal | None]]:
        """Realized and unrealized P&L and fees summed per quote currency (USDT and USD are not
        added together); unrealized is None when a position in it has no last price."""
        totals: dict[str, dict[str, Decimal | None]] = {}
        for row in self.rows:
            quote = totals.setdefault(
                row.pnl.quote or "?", {"realized_pnl": ZERO, "unrealized_pnl": ZERO, "fees": ZERO}
            )
            quote["realized_pnl"] += row.pnl.realized_pnl
            quote["fees"] += row.pnl.fees
            unrealized = row.pnl.unrealized_pnl
            quote["unrealized_pnl"] = (
                None
                if unrealized is None or quote["unrealized_pnl"] is None
                else (quote["unrealized_pnl"] + unrealized)
            )
        return totals


def portfolio_accounts(*, account_id: int | None = None) -> list[ExchangeAccount | None]:
    """The accounts the desk trades: the desk default and every account with a desk order;
    None stands for the dry run when it has fills or is the desk's executor. A follower's own
    account is not among them: desk staff see the desk's book, not a follower's balances."""
    desk_orders = Q(orders__follow_settings__isnull=True, orders__isnull=False)
    accounts = ExchangeAccount.objects.filter(Q(is_desk_default=True) | desk_orders).distinct().order_by("label", "id")
    if account_id is not None:
        accounts = accounts.filter(pk=account_id)
    result: list[ExchangeAccount | None] = list(accounts)
    dry_run_used = Fill.objects.filter(order__exchange_account__isnull=True).exists()
    if account_id is None and (dry_run_used or settings.EXECUTOR != "exchange"):
        result.append(None)
    return result


def desk_positions(account: ExchangeAccount | None) -> dict[str, PositionPnl]:
    """Positions from the desk's own fills on the account, oldest fill first, by symbol."""
    fills = (
        Fill.objects.filter(order__exchange_account=account)
        .order_by("time", "id")
        .values_list("order__symbol", "order__side", "qty", "price", "fee", "fee_asset", "time")
    )
    by_symbol: dict[str, list[TradeFill]] = defaultdict(list)
    for symbol, side, qty, price, fee, fee_asset, time in fills:
        by_symbol[symbol].append(TradeFill(side, qty, price, fee or ZERO, fee_asset, time))
    return {symbol: position_from_fills(symbol, rows) for symbol, rows in sorted(by_symbol.items())}


def account_portfolio(account: ExchangeAccount | None) -> AccountPortfolio:
    """One account's positions and P&L, reconciled with the venue's positions, and its balances."""
    portfolio = AccountPortfolio(
        key=str(account.pk) if account else DRY_RUN_KEY,
        account_id=account.pk if account else None,
        label=account.label if account else "Dry run",
        venue=account.venue if account else "dry_run",
        connector=account.connector if account else "dry_run",
    )
    positions = desk_positions(account)
    if account is None:
        # The dry run keeps its ledger in the worker's memory: there is no venue position to read.
        portfolio.venue_positions = VenueRead(error="the dry run keeps no positions a page can read")
        portfolio.balances = VenueRead(value=[])
    else:
        portfolio.venue_positions = venue_read(account, "positions")
        portfolio.balances = venue_read(account, "balances")
    venue_rows: dict[str, Position] = {}
    if portfolio.venue_positions.ok:
        venue_rows = {row.symbol: row for row in portfolio.venue_positions.value}
    # A venue that just failed to answer is not asked again for each symbol's price (each would
    # wait for its own timeout): its positions show without a last price until it answers.
    ask_prices = account is None or account.connector == ConnectorKind.BROWSER or portfolio.venue_positions.ok
    for symbol in sorted(set(positions) | set(venue_rows)):
        pnl = positions.get(symbol) or position_from_fills(symbol, [])
        pnl.last_price = last_price(account, symbol) if ask_prices else None
        venue = venue_rows.get(symbol)
        row = PositionRow(pnl=pnl)
        if portfolio.venue_positions.ok:
            row.venue_qty = venue.qty if venue else ZERO
            row.venue_avg_price = venue.avg_price if venue else None
        if pnl.fills or row.venue_qty:
            portfolio.rows.append(row)
    if portfolio.drifts:
        logger.debug("account %s: %d position(s) drift from the desk's fills", portfolio.key, len(portfolio.drifts))
    return portfolio


def portfolio_list(*, account_id: int | None = None) -> list[AccountPortfolio]:
    return [account_portfolio(account) for account in portfolio_accounts(account_id=account_id)]


def last_price(account: ExchangeAccount | None, symbol: str) -> Decimal | None:
    if account is None:
        return connector_for(None).last_price(symbol)
    read = venue_read(account, f"price:{symbol}")
    return read.value if read.ok else None


# --- venue reads -------------------------------------------------------------------------------


def _cache_key(account_id: int, what: str) -> str:
    return f"portfolio:venue:{account_id}:{what}"


def _reader(what: str) -> Callable[[Any], Any]:
    if what == "positions":
        return lambda connector: list(connector.get_positions())
    if what == "balances":
        return lambda connector: list(connector.get_balances())
    symbol = what.removeprefix("price:")
    return lambda connector: connector.last_price(symbol)


def venue_read(account: ExchangeAccount, what: str) -> VenueRead:
    """`what` is positions, balances or price:<symbol>. A browser account is read by its own
    worker (queued here, shown once it has answered); others are read here, cached briefly."""
    cached = cache.get(_cache_key(account.pk, what))
    if cached is not None:
        return cached
    if account.connector == ConnectorKind.BROWSER:
        _queue_browser_read(account, what)
        return VenueRead(error="asked the browser worker that owns this account; shown once it has read the venue")
    return venue_read_now(account, what)


def venue_read_now(account: ExchangeAccount, what: str) -> VenueRead:
    """Ask the venue now and cache the answer (or the failure, for a shorter time)."""
    try:
        read = VenueRead(value=_reader(what)(connector_for(account)), read_at=timezone.now())
        ttl = settings.PORTFOLIO_VENUE_CACHE_SECONDS
    except Exception as exc:  # an unreachable venue is shown as such, never as zero holdings
        logger.warning("account %s: could not read %s at the venue: %s", account.pk, what, exc)
        read = VenueRead(error=f"the venue could not be read: {str(exc)[:200]}", read_at=timezone.now())
        ttl = max(1, settings.PORTFOLIO_VENUE_CACHE_SECONDS // 2)
    if ttl > 0:
        cache.set(_cache_key(account.pk, what), read, ttl)
    return read


# Queued by name (a Celery signature): portfolio.tasks imports this module.
READ_VENUE_TASK = "portfolio.tasks.read_venue"


def _queue_browser_read(account: ExchangeAccount, what: str) -> None:
    # One queued read per account and kind at a time (cache.add is atomic).
    if cache.add(_cache_key(account.pk, f"queued:{what}"), True, settings.PORTFOLIO_VENUE_CACHE_SECONDS or 5):
        signature(READ_VENUE_TASK).apply_async((account.pk, what), queue=task_queue_for(account))


@dataclass(frozen=True)
class BalanceRow:
    asset: str
    free: Decimal
    locked: Decimal

    @property
    def total(self) -> Decimal:
        return self.free + self.locked


def balances_of(portfolio: AccountPortfolio) -> list[BalanceRow]:
    rows: list[Balance] = list(portfolio.balances.value or []) if portfolio.balances.ok else []
    return [BalanceRow(row.asset, row.free, row.locked) for row in rows]


# --- refusals ----------------------------------------------------------------------------------


def refusal_list(
    *,
    category: str = "",
    rule: str = "",
    symbol: str = "",
    user: str = "",
    day_from=None,
    day_to=None,
):
    """Refused confirms, newest first; days are the desk's TIME_ZONE days."""
    refusals = ConfirmRefusal.objects.select_related("user", "signal")
    if category:
        refusals = refusals.filter(category=category)
    if rule:
        refusals = refusals.filter(rule=rule)
    if symbol:
        refusals = refusals.filter(symbol=symbol)
    if user:
        refusals = refusals.filter(user__username=user)
    start, end = day_bounds(day_from, day_to)
    if start:
        refusals = refusals.filter(created_at__gte=start)
    if end:
        refusals = refusals.filter(created_at__lt=end)
    return refusals.order_by("-created_at", "-id")


def refusal_rules() -> list[str]:
    return sorted(set(ConfirmRefusal.objects.values_list("rule", flat=True).distinct()))
