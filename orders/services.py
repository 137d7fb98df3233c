"""Every write to an order: confirm (risk-checked), cancel, placement, result."""

import functools
import logging
from datetime import UTC, datetime
from decimal import Decimal

from celery import signature
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from executor.connectors.base import ErrorCode, OrderResult, OrderTicket, ResultStatus
from executor.models import ExchangeAccount
from executor.selectors import connector_for, desk_account_get, task_queue_for
from orders import alerts, hooks, risk
from orders.models import (
    FINAL_VENUE_STATES,
    IN_FLIGHT_STATUSES,
    LIVE_STATUSES,
    Fill,
    Order,
    OrderStatus,
    OrderType,
    VenueState,
)
from orders.serializers import OrderOutput
from orders.venue_rules import venue_rules_check
from portfolio.services import refusals_recorded
from signals.models import ORDERABLE_STATUSES, Signal
from signals.services import signal_expire, signal_mark_executed
from tradedesk import events
from tradedesk.audited import save_audited
from tradedesk.exceptions import Conflict, IllegalTransition, InvalidInput, NotFound
from tradedesk.formatting import decimal_text
from tradedesk.logging import bind_log_context

logger = logging.getLogger(__name__)


@functools.cache
def _event_output() -> OrderOutput:
    """One OrderOutput for every live event of this process: a ModelSerializer builds its ~35
    fields from the model on each new instance (about 1 ms of CPU, more than writing them out),
    so the event's serializer builds them once and only writes out each order. Writing out keeps
    no state on the serializer."""
    serializer = OrderOutput()
    serializer.fields  # noqa: B018 (built here, once)
    return serializer


def order_event_data(order: Order) -> dict:
    """The order as the API shows it (OrderOutput), for its live event."""
    return _event_output().to_representation(order)


def _publish(order: Order) -> None:
    if order.follow_settings_id is not None:
        return  # copy-trading orders are the followers' own, not the desk's book: their pages show them
    events.publish_on_commit(events.ORDERS_GROUP, "order_updated", order_event_data(order))


def _route() -> ExchangeAccount | None:
    """The exchange account new desk orders go to; None means the dry run."""
    if settings.EXECUTOR != "exchange":
        return None
    account = desk_account_get()
    if account is None:
        raise Conflict(
            "EXECUTOR=exchange but no active exchange account is marked desk default; set one in admin",
            code="no_desk_account",
        )
    return account


def _reference_price(
    *, signal: Signal, order_type: str, price: Decimal | None, account: ExchangeAccount | None
) -> Decimal | None:
    if order_type == OrderType.LIMIT:
        return price
    # Read before the transaction opens: for a real venue this is a network call.
    try:
        last = connector_for(account).last_price(signal.symbol)
    except Exception as exc:
        logger.warning("no last price for %s: %s", signal.symbol, exc)
        last = None
    return last or signal.suggest_price


def _validate(*, signal: Signal, side: str | None, order_type: str, price: Decimal | None) -> None:
    if side is not None and side != signal.side:
        raise InvalidInput(f"must match the signal's side ({signal.side}); post a new signal to reverse", field="side")
    if order_type == OrderType.LIMIT and price is None:
        raise InvalidInput("is required for a LIMIT order", field="price")
    if order_type == OrderType.MARKET and price is not None:
        raise InvalidInput("must be empty for a MARKET order (it fills at the venue's price)", field="price")


@refusals_recorded  # every refused confirm is kept, after its transaction rolled back
def order_create(
    *,
    user: User,
    signal_id: int,
    qty: Decimal,
    order_type: str,
    price: Decimal | None = None,
    side: str | None = None,
    allow_additional: bool = False,
) -> Order:
    """Confirm a signal into an order: risk checks, the SUBMITTING row, then the placement task.

    Locks the signal (one signal never yields two orders by accident) and then the symbol's
    risk row (daily limits hold under concurrency), always in that order.
    """
    bind_log_context(signal_id=signal_id)
    # A signal past its deadline is canceled first, whichever path (API, page, admin) orders it.
    signal_expire(signal_id=signal_id)
    signal = Signal.objects.filter(pk=signal_id).first()
    if signal is None:
        raise NotFound(f"signal {signal_id} does not exist", field="signal_id")
    _validate(signal=signal, side=side, order_type=order_type, price=price)
    account = _route()
    reference_price = _reference_price(signal=signal, order_type=order_type, price=price, account=account)
    # The venue's lot step, minimums and tick, read before the transaction (a network call).
    venue_rules_check(
        account=account,
        symbol=signal.symbol,
        side=signal.side,
        order_type=order_type,
        qty=qty,
        price=price,
        reference_price=reference_price,
    )

    with transaction.atomic():
        signal = Signal.objects.select_for_update().get(pk=signal_id)
        if signal.status not in ORDERABLE_STATUSES:
            raise Conflict(
                f"signal {signal.pk} is {signal.status}; only PENDING or ACCEPTED signals can be ordered",
                field="signal_id",
                code="signal_not_orderable",
                figures={"signal_status": signal.status},
            )
        existing = signal.orders.filter(status__in=LIVE_STATUSES).order_by("id").first()
        if existing is not None and not allow_additional:
            raise Conflict(
                f"signal {signal.pk} already has order {existing.pk} ({existing.status}); "
                "set allow_additional to place another one on purpose",
                field="signal_id",
                code="signal_already_ordered",
                figures={"existing_order_id": existing.pk, "existing_order_status": existing.status},
            )
        risk_row = risk.lock_symbol(signal.symbol)
        risk.check(
            qty=qty,
            reference_price=reference_price,
            limits=risk.limits_for(risk_row),
            usage=risk.daily_usage(signal.symbol),
        )
        order = Order(
            signal=signal,
            symbol=signal.symbol,
            side=signal.side,
            order_type=order_type,
            price=price,
            qty=qty,
            reference_price=reference_price,
            venue=account.connector if account else "dry_run",
            exchange_account=account,
            is_additional=existing is not None,
            created_by=user,
        )
        order._change_reason = f"confirmed by {user.get_username()}"
        order.save()
        bind_log_context(order_id=order.pk)
        _publish(order)
        transaction.on_commit(lambda: _enqueue_placement(order))
    logger.info("order %s created for signal %s by user %s", order.pk, signal.pk, user.pk)
    return order


def order_send(*, order: Order) -> Order:
    """Send an order whose placement is already recorded (placement_started_at set, committed,
    no transaction open) and record the answer. For callers that create their own orders and
    place them at once (copy trading's follower orders)."""
    return _send_and_record(order, _connector(order))


def order_enqueue_placement(*, order: Order) -> None:
    """Queue the placement of a committed SUBMITTING order on its account's queue."""
    _enqueue_placement(order)


# The tasks are queued by name (Celery signatures): orders.tasks imports this module.
TASKS = "orders.tasks"


def _enqueue_placement(order: Order) -> None:
    # Browser orders go to the one process that owns the account's browser (its queue).
    queue = task_queue_for(order.exchange_account)
    signature(f"{TASKS}.place_order").apply_async((order.pk,), queue=None if queue == "celery" else queue)


def order_cancel(*, order_id: int, user: User) -> Order:
    """Cancel an order: locally while nothing has reached the venue, else at the venue.

    A SUBMITTING order whose placement has not started is CANCELED here and never sent. An
    accepted order still resting at the venue (OPEN, PARTIALLY_FILLED, or not reported yet) is
    marked CANCEL_REQUESTED (`cancel_requested_at`) and the cancel goes to the venue from a task
    on the account's own queue; the venue's answer decides the end (CANCELED with the filled part
    kept, or FILLED if it filled first). Asking again while a cancel is under way sends it again
    (a cancel is safe to repeat). An order being placed, unknown, or final cannot be canceled.
    """
    with transaction.atomic():
        order = _locked(order_id)
        if order.status == OrderStatus.SUBMITTING and order.placement_started_at is None:
            order.status = OrderStatus.CANCELED
            order.completed_at = timezone.now()
            order._change_reason = f"canceled by {user.get_username()}"
            order.save()
            _publish(order)
            return order
        if order.status in IN_FLIGHT_STATUSES:
            raise IllegalTransition(
                f"order {order.pk} is being placed at the venue ({order.status}); wait for its result",
                field="status",
            )
        if not order.is_open_at_venue:
            state = order.venue_state or order.status
            raise IllegalTransition(f"order {order.pk} is {state}; only open orders can be canceled", field="status")
        order.cancel_requested_at = timezone.now()
        order.cancel_requested_by = user
        order._change_reason = f"cancel requested by {user.get_username()}"
        order.save()
        _publish(order)
        transaction.on_commit(lambda: _enqueue_for_venue("cancel_at_venue", order))
    logger.info("order %s: cancel requested by user %s", order.pk, user.pk)
    return order


def _enqueue_for_venue(task_name: str, order: Order) -> None:
    """Queue a task that talks to the order's venue, on the queue of the process that owns the
    account (a browser account's own browser worker; the regular workers for the rest)."""
    signature(f"{TASKS}.{task_name}").apply_async((order.pk,), queue=task_queue_for(order.exchange_account))


def order_place(*, order_id: int) -> Order | None:
    """Place one order at its venue, at most once. Safe to call again for the same order.

    Records the attempt before the call and the outcome after it, with no transaction open
    during the venue call. An answer that was lost makes the order UNKNOWN and is looked up at
    the venue by client order id. A second call for an order whose attempt had started (a
    re-delivered task after a crash) never places again: it looks the order up instead.
    """
    with transaction.atomic():
        order = _locked(order_id)
        bind_log_context(order_id=order.pk, signal_id=order.signal_id)
        if order.status != OrderStatus.SUBMITTING:
            logger.info("order %s is %s; nothing to place", order.pk, order.status)
            return None
        resuming = order.placement_started_at is not None
        if not resuming:
            order.placement_started_at = timezone.now()
            order._change_reason = "placement started"
            order.save(update_fields=["placement_started_at", "updated_at"])

    connector = _connector(order)
    if resuming:
        logger.warning("order %s: placement had started before; looking it up at the venue", order.pk)
        return order_record_result(order_id=order.pk, result=look_up(connector, order))
    return _send_and_record(order, connector)


def _send_and_record(order: Order, connector) -> Order:
    """Send the order (its placement already recorded, no transaction open) and record the
    answer; an unknown outcome is recorded first, then settled by a lookup at the venue."""
    try:
        result = connector.place_order(_ticket(order))
    except Exception as exc:
        logger.exception("order %s: the connector failed after it may have sent the order", order.pk)
        result = OrderResult.unknown(order.client_order_id, f"the connector failed: {exc}")
    if result.status == ResultStatus.UNKNOWN:
        order = order_record_result(order_id=order.pk, result=result, current=order)
        if result.needs_review:
            return Order.objects.get(pk=order.pk)  # a person settles it; a lookup cannot
        result = look_up(connector, order)
    return order_record_result(order_id=order.pk, result=result, current=order)


def order_reconcile(*, order_id: int, now=None) -> Order:
    """Settle an order left behind by a crash or a lost reply, by asking the venue.

    A SUBMITTING order whose placement never started is queued again (nothing reached the
    venue). One whose placement started, or an UNKNOWN one, is looked up at the venue. If the
    venue still does not show it after RECONCILE_GRACE_SECONDS: on a venue searched by our
    client order id (`lookup_is_certain`) it is FAILED NOT_FOUND_AT_VENUE; on a venue searched by
    the order's own fields "not found" proves nothing, so it stays UNKNOWN and goes to a person
    (needs review). It is never submitted a second time.
    """
    order = Order.objects.select_related("exchange_account").get(pk=order_id)
    bind_log_context(order_id=order.pk, signal_id=order.signal_id)
    now = now or timezone.now()
    if order.status not in IN_FLIGHT_STATUSES:
        return order
    if order.status == OrderStatus.SUBMITTING and order.placement_started_at is None:
        logger.warning("order %s: placement never started; queuing it again", order.pk)
        _enqueue_placement(order)
        return order
    connector = _connector(order)
    result = look_up(connector, order)
    waited = (now - (order.placement_started_at or order.created_at)).total_seconds()
    if result.status == ResultStatus.UNKNOWN and not result.needs_review and waited >= settings.RECONCILE_GRACE_SECONDS:
        if connector.lookup_is_certain:
            result = OrderResult.failed(
                order.client_order_id,
                ErrorCode.NOT_FOUND_AT_VENUE,
                f"the venue has no order {order.client_order_id} after {int(waited)}s; it was not re-submitted",
            )
        else:
            result = OrderResult.unknown(
                order.client_order_id,
                f"the venue, searched by the order's fields, shows no matching order after {int(waited)}s; "
                "a person must say whether it was placed",
                needs_review=True,
            )
    return order_record_result(order_id=order.pk, result=result)


def _connector(order: Order):
    return connector_for(order.exchange_account)


def look_up(connector, order: Order) -> OrderResult:
    """The venue's record of the order; UNKNOWN when the venue cannot be asked or does not show it."""
    client_order_id = order.client_order_id
    try:
        found = connector.get_order(client_order_id, ticket=_ticket(order), exchange_order_id=order.exchange_order_id)
    except Exception as exc:
        logger.warning("lookup of %s failed: %s", client_order_id, exc)
        return OrderResult.unknown(client_order_id, f"the venue lookup failed: {exc}")
    if found is None:
        return OrderResult.unknown(client_order_id, f"the venue does not show order {client_order_id} yet")
    return found


def _ticket(order: Order) -> OrderTicket:
    return OrderTicket(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        order_type=order.order_type,
        qty=order.qty,
        price=order.price,
        reference_price=order.reference_price,
        submitted_at=order.placement_started_at,
    )


def order_record_result(*, order_id: int, result: OrderResult, current: Order | None = None) -> Order:
    """Store the venue's answer. SUCCESS (accepted by the venue) executes the signal and records
    whatever the answer says of the order's life there (venue state, fills, fees: a MARKET order
    is often filled in the same answer); FAILED leaves the signal as it was (PENDING or ACCEPTED)
    so a trader can fix the cause and order again; UNKNOWN waits for a lookup at the venue, or,
    when the answer says no lookup can settle it (`needs_review`), for a person. `current`: the
    caller's copy of the order, if it has one (see `_locked`)."""
    with transaction.atomic():
        order = _locked(order_id, current)
        if order.status not in IN_FLIGHT_STATUSES:
            logger.warning("order %s is already %s; result %s ignored", order.pk, order.status, result.status)
            return order
        if result.status == ResultStatus.UNKNOWN:
            return _record_unknown(order, result)
        order.status = OrderStatus.SUCCESS if result.status == ResultStatus.SUCCESS else OrderStatus.FAILED
        order.exchange_order_id = result.exchange_order_id
        order.error_code = result.error_code
        order.error_message = result.error_message
        order.screenshot = result.screenshot or order.screenshot
        order.trace = result.trace or order.trace
        order.completed_at = timezone.now()
        order.needs_review = False  # settled by the venue itself
        if order.status == OrderStatus.SUCCESS:
            # An order in flight has no fill recorded: fills are recorded only once it is accepted
            # (here, as it leaves flight, or by a refresh of an accepted order), and no order goes
            # back into flight. So its fills are not read first (one statement per order).
            apply_venue_view(order, result, recorded=set())
        save_audited(order, reason=f"venue result {result.status}")
        if order.status == OrderStatus.SUCCESS and order.signal_id is not None:
            signal_mark_executed(signal=Signal.objects.select_for_update().get(pk=order.signal_id))
        if order.status == OrderStatus.FAILED and order.follow_settings_id is not None:
            # A follower's failure is recorded and pauses the follower in this same transaction.
            hooks.follower_order_failed(order)
        if order.status == OrderStatus.SUCCESS:
            hooks.order_accepted(order)
        _publish(order)
    logger.info("order %s %s %s", order.pk, order.status, order.error_code or order.exchange_order_id)
    if order.status == OrderStatus.FAILED and order.signal_id is not None:
        # Desk orders only: a follower's failure pauses the follower, which sends its own alert.
        transaction.on_commit(lambda: alerts.alert_order_failed(order_id=order.pk))
    return order


def _record_unknown(order: Order, result: OrderResult) -> Order:
    """The outcome is not known: UNKNOWN (once), and into the needs-review list (once, with an
    alert) when the answer says a person must settle it. The order keeps counting toward the
    limits and keeps its signal blocked meanwhile (UNKNOWN is in flight)."""
    reasons = []
    if order.status != OrderStatus.UNKNOWN:
        order.status = OrderStatus.UNKNOWN
        order.error_code = result.error_code
        order.error_message = result.error_message
        reasons.append("venue answer lost")
    entering_review = result.needs_review and not order.needs_review
    if entering_review:
        order.needs_review = True
        order.error_code = result.error_code or order.error_code
        order.error_message = result.error_message or order.error_message
        reasons.append("needs review: the venue lookup cannot settle it")
    if not reasons:
        return order
    order.screenshot = result.screenshot or order.screenshot
    order.trace = result.trace or order.trace
    order._change_reason = "; ".join(reasons)
    order.save()
    _publish(order)
    if entering_review:
        transaction.on_commit(lambda: alerts.alert_order_needs_review(order_id=order.pk))
        logger.warning("order %s needs review: %s", order.pk, order.error_message)
    return order


def apply_venue_view(order: Order, result: OrderResult, *, recorded: set[str] | None = None) -> list[str]:
    """Copy the venue's view of an accepted order onto the locked row (not saved) and record its
    new fills. Returns what changed, for the audit reason; empty when nothing did. `recorded`:
    the trade ids of the order's fills already recorded, when the caller knows them (None: read).

    Called with the order row locked (select_for_update), so two refreshes of one order take
    turns and the second finds the first one's fills; the unique (order, trade_id) constraint
    holds even if a caller forgot the lock. A final venue state is never changed again: a late
    answer saying OPEN cannot reopen a FILLED or CANCELED order."""
    changes: list[str] = []
    order.last_checked_at = timezone.now()
    # Fills are facts and are always recorded; a final state only moves to the same final state.
    settled = order.venue_state in FINAL_VENUE_STATES and result.venue_state != order.venue_state
    if recorded is not None:
        known = set(recorded)
    else:
        known = set(order.fills.values_list("trade_id", flat=True)) if order.pk else set()
    for fill in result.fills:
        if fill.trade_id in known:
            continue
        known.add(fill.trade_id)
        row = Fill(
            order=order,
            trade_id=fill.trade_id,
            qty=fill.qty,
            price=fill.price,
            fee=fill.fee,
            fee_asset=fill.fee_asset,
            time=fill.time or timezone.now(),
        )
        save_audited(row, reason="seen at the venue")
        changes.append(f"fill {fill.trade_id} {_n(fill.qty)} @ {_n(fill.price)}")
    if settled:
        return changes
    filled, avg = result.filled_qty, result.avg_price
    if filled is None and result.fills:
        # The venue listed its trades but no totals: the totals of every fill recorded so far.
        filled, avg = _fill_totals(order)
    for name, value in (
        ("filled_qty", filled),
        ("avg_fill_price", avg),
        ("fee", result.fee),
        ("fee_asset", result.fee_asset or None),
        ("venue_state", result.venue_state or None),
    ):
        if value is not None and getattr(order, name) != value:
            setattr(order, name, value)
            if name == "venue_state":
                changes.append(f"venue {value}")
    if order.venue_state == VenueState.FILLED and order.filled_qty is None:
        order.filled_qty = order.qty  # FILLED means all of it, even from a venue that gave no totals
    return changes


def _fill_totals(order: Order) -> tuple[Decimal | None, Decimal | None]:
    fills = list(order.fills.values_list("qty", "price"))
    qty = sum((q for q, _ in fills), Decimal("0"))
    if not qty:
        return None, None
    return qty, sum((q * p for q, p in fills), Decimal("0")) / qty


def _n(value: Decimal) -> str:
    return decimal_text(value)


def _locked(order_id: int, current: Order | None = None) -> Order:
    """The order's row, locked until the transaction ends. `current`: the caller's own copy of
    the row (the order it just saved, then sent), taken as it is when the row has not changed
    since (same `updated_at`, auto_now on every save): one small locked read instead of reading
    and building the whole row again, once per venue answer. A row changed meanwhile (a
    reconciliation, a person) is read whole."""
    if current is not None and current.pk == order_id and current.updated_at is not None:
        if _locked_updated_at(order_id) == current.updated_at:
            return current
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound(f"order {order_id} does not exist", field="order_id") from None


def _locked_updated_at(order_id: int) -> datetime | None:
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite: BEGIN IMMEDIATE
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Order._meta.db_table)
        cursor.execute(f"SELECT updated_at FROM {table} WHERE id = %s{lock}", [order_id])  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        return None
    value = row[0]
    if isinstance(value, str):  # SQLite: naive UTC text
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value
