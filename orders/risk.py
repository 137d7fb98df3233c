"""Risk control (seed 001 §5.5): per-order max qty, per-symbol daily qty and notional.

The daily check reads the day's orders while holding the symbol's RiskLimit row lock, so
concurrent confirms for one symbol are serialized on PostgreSQL and can never together pass
the limit; on SQLite the IMMEDIATE transaction serializes them the same way.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, DecimalField, ExpressionWrapper, F, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.models import LIVE_STATUSES, Order, OrderStatus, RiskLimit, VenueState
from tradedesk.exceptions import RiskRejected
from tradedesk.formatting import decimal_text

ZERO = Decimal("0")


@dataclass(frozen=True)
class Limits:
    max_order_qty: Decimal | None
    max_daily_qty: Decimal | None
    max_daily_notional: Decimal | None


@dataclass(frozen=True)
class Usage:
    daily_qty: Decimal
    daily_notional: Decimal


def _default(name: str) -> Decimal | None:
    raw = str(getattr(settings, name, "") or "").strip()
    return Decimal(raw) if raw else None


def limits_for(row: RiskLimit | None) -> Limits:
    def pick(field: str, setting: str) -> Decimal | None:
        value = getattr(row, field) if row is not None else None
        return value if value is not None else _default(setting)

    return Limits(
        max_order_qty=pick("max_order_qty", "RISK_MAX_ORDER_QTY"),
        max_daily_qty=pick("max_daily_qty", "RISK_MAX_DAILY_QTY"),
        max_daily_notional=pick("max_daily_notional", "RISK_MAX_DAILY_NOTIONAL"),
    )


def day_start(now: datetime | None = None) -> datetime:
    """Midnight of the current risk day in the desk's TIME_ZONE."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def counted_qty() -> Case:
    """The part of an order that uses today's limits: all of it while it is, or may be, live at the
    venue (SUBMITTING, UNKNOWN incl. in review, accepted and OPEN/PARTIALLY_FILLED, or a cancel
    under way); for an accepted order that ended, what filled (all of it for FILLED; the filled
    part of a CANCELED, EXPIRED or REJECTED one, so its unfilled remainder is given back); nothing
    for FAILED or CANCELED-before-sending orders (filtered out by status)."""
    decimal = DecimalField(max_digits=28, decimal_places=10)
    return Case(
        When(status=OrderStatus.SUCCESS, venue_state=VenueState.FILLED, then=Coalesce("filled_qty", "qty")),
        When(
            status=OrderStatus.SUCCESS,
            venue_state__in=[VenueState.CANCELED, VenueState.EXPIRED, VenueState.REJECTED],
            then=Coalesce("filled_qty", Value(ZERO, output_field=decimal)),
        ),
        default=F("qty"),
        output_field=decimal,
    )


def daily_usage(symbol: str, now: datetime | None = None) -> Usage:
    """Today's quantity and notional (reference price x counted quantity, see counted_qty) of the
    desk's own orders for the symbol."""
    notional = ExpressionWrapper(
        F("reference_price") * counted_qty(), output_field=DecimalField(max_digits=38, decimal_places=20)
    )
    # The desk's limits are for the desk's own orders: copy-trading orders go to followers' own
    # accounts, so a thousand followers mirroring a master never use up the desk's daily limit.
    totals = Order.objects.filter(
        symbol=symbol, status__in=LIVE_STATUSES, created_at__gte=day_start(now), follow_settings__isnull=True
    ).aggregate(total_qty=Sum(counted_qty()), total_notional=Sum(notional))
    return Usage(daily_qty=totals["total_qty"] or ZERO, daily_notional=totals["total_notional"] or ZERO)


def lock_symbol(symbol: str) -> RiskLimit:
    """Lock (creating if needed) the symbol's RiskLimit row; call inside a transaction."""
    try:
        with transaction.atomic():
            RiskLimit.objects.get_or_create(symbol=symbol)
    except IntegrityError:
        pass  # a concurrent request created it first; the select below waits for it
    return RiskLimit.objects.select_for_update().get(symbol=symbol)


def check(*, qty: Decimal, reference_price: Decimal | None, limits: Limits, usage: Usage) -> None:
    """Raise RiskRejected naming the rule, the limit and the figures."""
    if limits.max_order_qty is not None and qty > limits.max_order_qty:
        raise RiskRejected(
            f"{_n(qty)} is over the per-order limit of {_n(limits.max_order_qty)}",
            field="qty",
            code="risk_max_order_qty",
            figures={"qty": qty, "max_order_qty": limits.max_order_qty},
        )
    if limits.max_daily_qty is not None and usage.daily_qty + qty > limits.max_daily_qty:
        left = max(limits.max_daily_qty - usage.daily_qty, ZERO)
        raise RiskRejected(
            f"{_n(qty)} would take today's total to {_n(usage.daily_qty + qty)}, over the daily limit of "
            f"{_n(limits.max_daily_qty)} ({_n(left)} left today)",
            field="qty",
            code="risk_max_daily_qty",
            figures={"qty": qty, "used_today": usage.daily_qty, "max_daily_qty": limits.max_daily_qty, "left": left},
        )
    if limits.max_daily_notional is not None and reference_price is not None:
        notional = reference_price * qty
        if usage.daily_notional + notional > limits.max_daily_notional:
            left = max(limits.max_daily_notional - usage.daily_notional, ZERO)
            raise RiskRejected(
                f"notional {_n(notional)} would take today's total to {_n(usage.daily_notional + notional)}, "
                f"over the daily notional limit of {_n(limits.max_daily_notional)} ({_n(left)} left today)",
                field="qty",
                code="risk_max_daily_notional",
                figures={
                    "qty": qty,
                    "reference_price": reference_price,
                    "notional": notional,
                    "used_today": usage.daily_notional,
                    "max_daily_notional": limits.max_daily_notional,
                    "left": left,
                },
            )


def _n(value: Decimal) -> str:
    return decimal_text(value)
