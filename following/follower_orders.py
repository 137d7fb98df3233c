"""Follower orders: the copy-trading orders the sync engine places on followers' own accounts.

They are desk Order rows (the order lifecycle of orders/ refreshes, cancels and records them)
with follow_settings set. Their failure comes back here through orders.hooks (registered in
following.apps), so orders never imports following."""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, DecimalField, Value, When
from django.utils import timezone

from executor.models import ExchangeAccount
from following.models import CopyTrade, FollowSettings, TradeError
from following.services import trade_error_record_for_order
from following.sizing import slippage
from orders.models import Order, OrderType
from orders.services import order_enqueue_placement, order_send
from tradedesk.audited import save_audited
from tradedesk.exceptions import Conflict

logger = logging.getLogger(__name__)


def follower_order_create(
    *,
    follow_settings_id: int,
    user: User,
    account: ExchangeAccount,
    symbol: str,
    side: str,
    qty: Decimal,
    reference_price: Decimal | None = None,
    price: Decimal | None = None,
    master_price: Decimal | None = None,
    max_slippage: Decimal | None = None,
    placing_now: bool = False,
) -> Order:
    """A copy-trading order for a follower's own exchange account, SUBMITTING: a LIMIT at
    `price` (the slippage guard, with its CopyTrade record of the master's price) or, without a
    price, a MARKET order (seed 000; venues where the guard is not supported).

    The row (and its client order id) is committed before any venue call. A follower has at
    most one order in flight per symbol (a database constraint): a second one is refused with a
    409 `follower_order_in_flight`, so two sync cycles can never order the same difference twice.
    A follower turned off or paused by an error since the cycle read its settings gets no order
    (409 `follower_paused`): the cycle's read can be seconds old when it has many followers.
    Follower orders are not published to the desk's order stream: they are the followers' own.
    """
    order = Order(
        follow_settings_id=follow_settings_id,
        symbol=symbol,
        side=side,
        order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        qty=qty,
        price=price,
        reference_price=reference_price,
        venue=account.connector,
        exchange_account=account,
        created_by=user,
        # Placed by the caller right after this commit: the attempt is recorded with the row, so
        # a crash before the answer is settled by a lookup at the venue, never by a second send.
        placement_started_at=timezone.now() if placing_now else None,
    )
    reason = f"copy trading for {user.get_username()}"
    try:
        with transaction.atomic():
            if not _follower_still_on(follow_settings_id):
                raise Conflict(
                    f"follower settings {follow_settings_id} are off or paused by an error; nothing ordered",
                    code="follower_paused",
                )
            save_audited(order, reason=reason)
            if master_price is not None or price is not None:
                CopyTrade.objects.create(
                    order=order,
                    follow_settings_id=follow_settings_id,
                    master_price=master_price,
                    limit_price=price,
                    max_slippage=max_slippage if max_slippage is not None else Decimal("0"),
                )
    except IntegrityError:
        raise Conflict(
            f"follower settings {follow_settings_id} already have a {symbol} order in flight",
            field="symbol",
            code="follower_order_in_flight",
        ) from None
    return order


def _follower_still_on(follow_settings_id: int) -> bool:
    """Whether the follow is on and has no unresolved trade error of its own, right now. One statement per
    follower order, in plain SQL: building it with the ORM costs about 0.4 ms of CPU, paid a
    thousand times per master change with a thousand followers."""
    settings_table = connection.ops.quote_name(FollowSettings._meta.db_table)
    errors_table = connection.ops.quote_name(TradeError._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 AS still_on FROM {settings_table} s WHERE s.id = %s AND s.is_active = %s AND NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {errors_table} e WHERE e.is_resolved = %s AND (e.follow_settings_id = s.id "
            f"OR (e.follow_settings_id IS NULL AND e.user_id = s.user_id)))",
            [follow_settings_id, True, False],
        )
        return cursor.fetchone() is not None


def follower_order_submit(**fields) -> Order:
    """Create a follower order (see follower_order_create) and place it: API and dry-run orders
    at once in this thread (no transaction open), browser orders through the browser queue."""
    if fields["account"].connector == "browser":
        order = follower_order_create(**fields)
        order_enqueue_placement(order=order)
        return order
    order = follower_order_create(**fields, placing_now=True)
    return order_send(order=order)


def follower_order_failed(order: Order) -> None:
    """orders' hook: a follower order failed (at the venue, or reviewed as not placed). Records
    the follower's trade error and pauses it, in the caller's transaction."""
    trade_error_record_for_order(order=order)


_batched = threading.local()


def copy_trade_settle(*, order: Order, master_price: Decimal | None = None) -> None:
    """Record the slippage of a follower order against its master's price once it has a fill
    price (at its answer, or a later refresh of a resting limit). A caller that created the
    order passes the master price it recorded: one UPDATE, no read (it runs for every copy);
    inside `copy_trades_batched` the UPDATE waits for the block's end, one for all its orders."""
    if order.avg_fill_price is None:
        return
    if master_price is None:
        trade = CopyTrade.objects.filter(order_id=order.pk, master_price__isnull=False).first()
        if trade is None:
            return
        master_price = trade.master_price
    if not master_price:
        return
    value = slippage(side=order.side, master_price=master_price, fill_price=order.avg_fill_price)
    pending = getattr(_batched, "pending", None)
    if pending is not None:
        pending[order.pk] = value.quantize(Decimal("1E-10"))
        return
    _slippage_write({order.pk: value.quantize(Decimal("1E-10"))})


@contextmanager
def copy_trades_batched() -> Iterator[None]:
    """The slippage of the orders settled in this block (this thread) is written at its end in
    one UPDATE. The slippage is a figure shown in the admin, derived from prices already stored
    (the stats compute it from the fills): if the process dies first, only that figure is lost."""
    outer = getattr(_batched, "pending", None)
    _batched.pending = {} if outer is None else outer
    try:
        yield
    finally:
        if outer is None:
            pending, _batched.pending = _batched.pending, None
            _slippage_write(pending)


def _slippage_write(values: dict[int, Decimal]) -> None:
    if not values:
        return
    field = DecimalField(max_digits=16, decimal_places=10)
    cases = [When(order_id=order_id, then=Value(value, output_field=field)) for order_id, value in values.items()]
    rows = CopyTrade.objects.filter(order_id__in=list(values), master_price__isnull=False)
    rows.update(slippage=Case(*cases, output_field=field))
