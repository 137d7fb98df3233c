"""Every write to an order: confirm (risk-checked), cancel, placement, result."""

import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from executor.connectors.base import ErrorCode, OrderResult, OrderTicket, ResultStatus
from executor.models import ExchangeAccount
from executor.selectors import connector_for, desk_account_get
from orders import risk
from orders.models import IN_FLIGHT_STATUSES, LIVE_STATUSES, Order, OrderStatus, OrderType
from signals.models import ORDERABLE_STATUSES, Signal
from signals.services import signal_expire, signal_mark_executed
from tradedesk import events
from tradedesk.exceptions import Conflict, IllegalTransition, InvalidInput, NotFound
from tradedesk.logging import bind_log_context

logger = logging.getLogger(__name__)


def order_event_data(order: Order) -> dict:
    from orders.serializers import OrderOutput

    return OrderOutput(order).data


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

    with transaction.atomic():
        signal = Signal.objects.select_for_update().get(pk=signal_id)
        if signal.status not in ORDERABLE_STATUSES:
            raise Conflict(
                f"signal {signal.pk} is {signal.status}; only PENDING or ACCEPTED signals can be ordered",
                field="signal_id",
                code="signal_not_orderable",
            )
        existing = signal.orders.filter(status__in=LIVE_STATUSES).order_by("id").first()
        if existing is not None and not allow_additional:
            raise Conflict(
                f"signal {signal.pk} already has order {existing.pk} ({existing.status}); "
                "set allow_additional to place another one on purpose",
                field="signal_id",
                code="signal_already_ordered",
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
        transaction.on_commit(lambda: _enqueue_placement(order.pk, order.venue))
    logger.info("order %s created for signal %s by user %s", order.pk, signal.pk, user.pk)
    return order


def _enqueue_placement(order_id: int, venue: str) -> None:
    from orders.tasks import place_order

    # Browser orders go to the one process that owns the browser (the `browser` queue).
    if venue == "browser":
        place_order.apply_async((order_id,), queue=settings.BROWSER_QUEUE)
    else:
        place_order.delay(order_id)


def order_cancel(*, order_id: int, user: User) -> Order:
    """Cancel an order the executor has not started placing; after that only its result counts."""
    with transaction.atomic():
        order = _locked(order_id)
        if order.status != OrderStatus.SUBMITTING:
            raise IllegalTransition(f"order {order.pk} is {order.status}; only SUBMITTING orders can be canceled")
        if order.placement_started_at is not None:
            raise IllegalTransition(
                f"order {order.pk} is already being placed at the venue; wait for its result", field="status"
            )
        order.status = OrderStatus.CANCELED
        order.completed_at = timezone.now()
        order._change_reason = f"canceled by {user.get_username()}"
        order.save()
        _publish(order)
    return order


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
        return order_record_result(order_id=order.pk, result=_look_up(connector, order.client_order_id))
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
        order_record_result(order_id=order.pk, result=result)
        result = _look_up(connector, order.client_order_id)
    return order_record_result(order_id=order.pk, result=result)


def order_reconcile(*, order_id: int, now=None) -> Order:
    """Settle an order left behind by a crash or a lost reply, by asking the venue.

    A SUBMITTING order whose placement never started is queued again (nothing reached the
    venue). One whose placement started, or an UNKNOWN one, is looked up by client order id;
    if the venue still does not know it after RECONCILE_GRACE_SECONDS it is FAILED, and it is
    never submitted a second time.
    """
    order = Order.objects.select_related("exchange_account").get(pk=order_id)
    bind_log_context(order_id=order.pk, signal_id=order.signal_id)
    now = now or timezone.now()
    if order.status not in IN_FLIGHT_STATUSES:
        return order
    if order.status == OrderStatus.SUBMITTING and order.placement_started_at is None:
        logger.warning("order %s: placement never started; queuing it again", order.pk)
        _enqueue_placement(order.pk, order.venue)
        return order
    result = _look_up(_connector(order), order.client_order_id)
    waited = (now - (order.placement_started_at or order.created_at)).total_seconds()
    if result.status == ResultStatus.UNKNOWN and waited >= settings.RECONCILE_GRACE_SECONDS:
        result = OrderResult.failed(
            order.client_order_id,
            ErrorCode.NOT_FOUND_AT_VENUE,
            f"the venue has no order {order.client_order_id} after {int(waited)}s; it was not re-submitted",
        )
    return order_record_result(order_id=order.pk, result=result)


def _connector(order: Order):
    return connector_for(order.exchange_account)


def _look_up(connector, client_order_id: str) -> OrderResult:
    try:
        found = connector.get_order(client_order_id)
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
    )


def order_record_result(*, order_id: int, result: OrderResult) -> Order:
    """Store the venue's answer. SUCCESS executes the signal; FAILED leaves the signal as it
    was (PENDING or ACCEPTED) so a trader can fix the cause and order again; UNKNOWN waits for
    a lookup at the venue."""
    with transaction.atomic():
        order = _locked(order_id)
        if order.status not in IN_FLIGHT_STATUSES:
            logger.warning("order %s is already %s; result %s ignored", order.pk, order.status, result.status)
            return order
        if result.status == ResultStatus.UNKNOWN:
            if order.status != OrderStatus.UNKNOWN:
                order.status = OrderStatus.UNKNOWN
                order.error_code = result.error_code
                order.error_message = result.error_message
                order.screenshot = result.screenshot or order.screenshot
                order.trace = result.trace or order.trace
                order._change_reason = "venue answer lost"
                order.save()
                _publish(order)
            return order
        order.status = OrderStatus.SUCCESS if result.status == ResultStatus.SUCCESS else OrderStatus.FAILED
        order.exchange_order_id = result.exchange_order_id
        order.error_code = result.error_code
        order.error_message = result.error_message
        order.filled_qty = result.filled_qty
        order.avg_fill_price = result.avg_price
        order.screenshot = result.screenshot or order.screenshot
        order.trace = result.trace or order.trace
        order.completed_at = timezone.now()
        order._change_reason = f"venue result {result.status}"
        order.save()
        if order.status == OrderStatus.SUCCESS and order.signal_id is not None:
            signal_mark_executed(signal=Signal.objects.select_for_update().get(pk=order.signal_id))
        if order.status == OrderStatus.FAILED and order.follow_settings_id is not None:
            # A follower's failure is recorded and pauses the follower in this same transaction.
            from following.services import trade_error_record_for_order

            trade_error_record_for_order(order=order)
        _publish(order)
    logger.info("order %s %s %s", order.pk, order.status, order.error_code or order.exchange_order_id)
    if order.status == OrderStatus.FAILED and order.signal_id is not None:
        # Desk orders only: a follower's failure pauses the follower, which sends its own alert.
        from ops.alerts import alert_order_failed

        transaction.on_commit(lambda: alert_order_failed(order_id=order.pk))
    return order


def _locked(order_id: int) -> Order:
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound(f"order {order_id} does not exist", field="order_id") from None


def follower_order_create(
    *,
    follow_settings_id: int,
    user: User,
    account: ExchangeAccount,
    symbol: str,
    side: str,
    qty: Decimal,
    reference_price: Decimal | None = None,
    placing_now: bool = False,
) -> Order:
    """A copy-trading MARKET order for a follower's own exchange account, SUBMITTING.

    The row (and its client order id) is committed before any venue call. A follower has at
    most one order in flight per symbol (a database constraint): a second one is refused with a
    409 `follower_order_in_flight`, so two sync cycles can never order the same difference twice.
    A follower turned off or paused by an error since the cycle read its settings gets no order
    (409 `follower_paused`): the cycle's read can be seconds old when it has many followers.
    """
    from django.db import IntegrityError

    order = Order(
        follow_settings_id=follow_settings_id,
        symbol=symbol,
        side=side,
        order_type=OrderType.MARKET,
        qty=qty,
        reference_price=reference_price,
        venue=account.connector,
        exchange_account=account,
        created_by=user,
        # Placed by the caller right after this commit: the attempt is recorded with the row, so
        # a crash before the answer is settled by a lookup at the venue, never by a second send.
        placement_started_at=timezone.now() if placing_now else None,
    )
    order._change_reason = f"copy trading for {user.get_username()}"
    try:
        with transaction.atomic():
            if not _follower_still_on(follow_settings_id):
                raise Conflict(
                    f"follower settings {follow_settings_id} are off or paused by an error; nothing ordered",
                    code="follower_paused",
                )
            order.save()
            _publish(order)
    except IntegrityError:
        raise Conflict(
            f"follower settings {follow_settings_id} already have a {symbol} order in flight",
            field="symbol",
            code="follower_order_in_flight",
        ) from None
    return order


def _follower_still_on(follow_settings_id: int) -> bool:
    """Whether the follower is on and has no unresolved trade error, right now. One statement per
    follower order, in plain SQL: building it with the ORM costs about 0.4 ms of CPU, paid a
    thousand times per master change with a thousand followers."""
    from django.db import connection

    from following.models import FollowSettings, TradeError

    settings_table = connection.ops.quote_name(FollowSettings._meta.db_table)
    errors_table = connection.ops.quote_name(TradeError._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 AS still_on FROM {settings_table} s WHERE s.id = %s AND s.is_active = %s AND NOT EXISTS "  # noqa: S608
            f"(SELECT 1 FROM {errors_table} e WHERE e.user_id = s.user_id AND e.is_resolved = %s)",
            [follow_settings_id, True, False],
        )
        return cursor.fetchone() is not None


def follower_order_submit(**fields) -> Order:
    """Create a follower order (see follower_order_create) and place it: API and dry-run orders
    at once in this thread (no transaction open), browser orders through the browser queue."""
    if fields["account"].connector == "browser":
        order = follower_order_create(**fields)
        _enqueue_placement(order.pk, order.venue)
        return order
    order = follower_order_create(**fields, placing_now=True)
    return _send_and_record(order, _connector(order))
