"""Every write to an order: confirm (risk-checked), cancel, placement, result."""

import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from executor.connectors import get_connector
from executor.connectors.base import ErrorCode, OrderResult, OrderTicket, ResultStatus
from orders import risk
from orders.models import LIVE_STATUSES, Order, OrderStatus, OrderType
from signals.models import ORDERABLE_STATUSES, Signal
from signals.services import signal_mark_executed
from tradedesk import events
from tradedesk.exceptions import Conflict, IllegalTransition, InvalidInput, NotFound

logger = logging.getLogger(__name__)


def order_event_data(order: Order) -> dict:
    from orders.serializers import OrderOutput

    return OrderOutput(order).data


def _publish(order: Order) -> None:
    events.publish_on_commit(events.ORDERS_GROUP, "order_updated", order_event_data(order))


def _reference_price(*, signal: Signal, order_type: str, price: Decimal | None) -> Decimal | None:
    if order_type == OrderType.LIMIT:
        return price
    # Read outside the transaction: for a real venue this is a network call.
    return get_connector(settings.EXECUTOR, settings.EXECUTOR_ACCOUNT).last_price(signal.symbol) or signal.suggest_price


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
    signal = Signal.objects.filter(pk=signal_id).first()
    if signal is None:
        raise NotFound(f"signal {signal_id} does not exist", field="signal_id")
    _validate(signal=signal, side=side, order_type=order_type, price=price)
    reference_price = _reference_price(signal=signal, order_type=order_type, price=price)

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
            venue=settings.EXECUTOR,
            venue_account=settings.EXECUTOR_ACCOUNT,
            is_additional=existing is not None,
            created_by=user,
        )
        order._change_reason = f"confirmed by {user.get_username()}"
        order.save()
        _publish(order)
        transaction.on_commit(lambda: _enqueue_placement(order.pk))
    logger.info("order %s created for signal %s by user %s", order.pk, signal.pk, user.pk)
    return order


def _enqueue_placement(order_id: int) -> None:
    from orders.tasks import place_order

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
    during the venue call. A second call for an order whose attempt had started (a re-delivered
    task after a crash) never places again: it asks the venue by client order id instead.
    """
    with transaction.atomic():
        order = _locked(order_id)
        if order.status != OrderStatus.SUBMITTING:
            logger.info("order %s is %s; nothing to place", order.pk, order.status)
            return None
        resuming = order.placement_started_at is not None
        if not resuming:
            order.placement_started_at = timezone.now()
            order._change_reason = "placement started"
            order.save(update_fields=["placement_started_at", "updated_at"])

    connector = get_connector(order.venue, order.venue_account)
    if resuming:
        logger.warning("order %s: placement had started before; looking it up at the venue", order.pk)
        result = _look_up(connector, order.client_order_id)
    else:
        try:
            result = connector.place_order(_ticket(order))
        except Exception as exc:
            logger.exception("order %s: connector raised; looking it up at the venue", order.pk)
            result = _look_up(connector, order.client_order_id, cause=exc)
    return order_record_result(order_id=order.pk, result=result)


def _look_up(connector, client_order_id: str, cause: Exception | None = None) -> OrderResult:
    try:
        found = connector.get_order(client_order_id)
    except Exception as exc:
        return OrderResult.failed(client_order_id, ErrorCode.CONNECTOR_ERROR, f"venue lookup failed: {exc}")
    if found is not None:
        return found
    detail = f" after: {cause}" if cause else ""
    return OrderResult.failed(
        client_order_id,
        ErrorCode.NOT_FOUND_AT_VENUE,
        f"the venue has no order {client_order_id}{detail}; it was not re-submitted",
    )


def _ticket(order: Order) -> OrderTicket:
    return OrderTicket(
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        order_type=order.order_type,
        qty=order.qty,
        price=order.price,
        reference_price=order.reference_price,
        account=order.venue_account,
    )


def order_record_result(*, order_id: int, result: OrderResult) -> Order:
    """Store the venue's answer. SUCCESS executes the signal; FAILED leaves the signal as it
    was (PENDING or ACCEPTED) so a trader can fix the cause and order again."""
    with transaction.atomic():
        order = _locked(order_id)
        if order.status != OrderStatus.SUBMITTING:
            logger.warning("order %s is already %s; result %s ignored", order.pk, order.status, result.status)
            return order
        order.status = OrderStatus.SUCCESS if result.status == ResultStatus.SUCCESS else OrderStatus.FAILED
        order.exchange_order_id = result.exchange_order_id
        order.error_code = result.error_code
        order.error_message = result.error_message
        order.filled_qty = result.filled_qty
        order.avg_fill_price = result.avg_price
        order.completed_at = timezone.now()
        order._change_reason = f"venue result {result.status}"
        order.save()
        if order.status == OrderStatus.SUCCESS:
            signal_mark_executed(signal=Signal.objects.select_for_update().get(pk=order.signal_id))
        _publish(order)
    logger.info("order %s %s %s", order.pk, order.status, order.error_code or order.exchange_order_id)
    return order


def _locked(order_id: int) -> Order:
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound(f"order {order_id} does not exist", field="order_id") from None
