"""Services for an order after the venue accepted it (or after nobody can tell whether it did):
tracking it to its end, cancelling it at the venue, and a person's word on an order in review.

Each one asks the venue with no transaction open, then records the answer under the order's row
lock (orders.services.apply_venue_view), audited, with the live event sent after commit. They run
in tasks on the queue of the process that owns the account (executor.selectors.task_queue_for).
"""

import logging

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from executor.connectors.base import ErrorCode, OrderResult, ResultStatus
from executor.selectors import task_queue_for
from orders import hooks, selectors
from orders.models import Order, OrderStatus
from orders.services import (
    _connector,
    _enqueue_for_venue,
    _locked,
    _publish,
    _ticket,
    apply_venue_view,
    look_up,
)
from signals.models import Signal
from signals.services import signal_mark_executed
from tradedesk.exceptions import IllegalTransition, InvalidInput
from tradedesk.logging import bind_log_context

logger = logging.getLogger(__name__)

# A person's "not placed": the order is FAILED with this code (the signal can be ordered again).
NOT_PLACED_REVIEWED = "NOT_PLACED_REVIEWED"


def order_refresh(*, order_id: int, routine: bool = False) -> Order:
    """Ask the venue where an accepted order is now and record it: venue state, filled quantity,
    average price, fees and each new fill (once per venue trade id). A venue that cannot be
    reached, or does not show the order, leaves it as it is (logged): it is asked again later,
    and never turned FAILED for that.

    `routine` (beat's periodic refresh): at a browser account, a refresh gives way to the orders
    waiting to be placed by the same browser worker, which runs one task at a time; the order is
    asked again at beat's next round for it. A refresh there is a page load (~0.4 s) and every
    accepted LIMIT order gets one: during a run of orders they queued up ahead of the new
    placements, which waited up to 25 s behind them (bench/README.md)."""
    order = Order.objects.select_related("exchange_account").get(pk=order_id)
    bind_log_context(order_id=order.pk, signal_id=order.signal_id)
    if not order.is_open_at_venue:
        return order
    account = order.exchange_account
    if routine and account is not None and account.connector == "browser":
        if selectors.browser_placements_waiting(queue=task_queue_for(account)):
            logger.debug("order %s: refresh left for later: orders are waiting to be placed", order.pk)
            return order
    result = _ask(order)
    if result is None:
        Order.objects.filter(pk=order.pk).update(last_checked_at=timezone.now())
        return order
    return _record_view(order.pk, result, reason="venue")


def _ask(order: Order) -> OrderResult | None:
    found = look_up(_connector(order), order)
    if found.status != ResultStatus.SUCCESS:
        # Unreachable, not shown, or a lookup answer that contradicts the acceptance: keep what we know.
        logger.warning("order %s: no state from the venue (%s); left as it is", order.pk, found.error_message)
        return None
    return found


def _record_view(order_id: int, result: OrderResult, *, reason: str, clear_cancel: bool = False) -> Order:
    with transaction.atomic():
        order = _locked(order_id)
        if order.status != OrderStatus.SUCCESS:
            return order
        changes = apply_venue_view(order, result)
        if clear_cancel and order.cancel_requested_at is not None and order.is_open_at_venue:
            order.cancel_requested_at = None
            changes.append("cancel request closed")
        if not changes:
            # Nothing new: only the time it was asked, with no audit row for it.
            Order.objects.filter(pk=order.pk).update(last_checked_at=order.last_checked_at)
            return order
        order._change_reason = f"{reason}: {', '.join(changes)}"[:100]
        order.save()
        _publish(order)
    logger.info("order %s: %s", order.pk, ", ".join(changes))
    return order


def order_refresh_request(*, order_id: int) -> Order:
    """Queue a refresh of one order on its account's own queue (the desk's Refresh button)."""
    with transaction.atomic():
        order = _locked(order_id)
        if not order.is_open_at_venue:
            state = order.venue_state or order.status
            raise IllegalTransition(
                f"order {order.pk} is {state}; only orders open at the venue are refreshed", field="status"
            )
        transaction.on_commit(lambda: _enqueue_for_venue("refresh_order", order))
    return order


def order_cancel_at_venue(*, order_id: int) -> Order:
    """Send a requested cancel to the venue and record its answer (see orders.services.order_cancel).

    The venue's answer is the order as it has it now: CANCELED (the filled part kept) or FILLED
    when it filled first; never both, since a final state is never changed again. A lost answer,
    or a refusal because the order is already final, is looked up; if the lookup fails too the
    order stays CANCEL_REQUESTED and the periodic refresh records whatever the venue did."""
    order = Order.objects.select_related("exchange_account").get(pk=order_id)
    bind_log_context(order_id=order.pk, signal_id=order.signal_id)
    if not order.cancel_requested:
        return order
    connector = _connector(order)
    try:
        answer = connector.cancel_order(
            order.client_order_id, ticket=_ticket(order), exchange_order_id=order.exchange_order_id
        )
    except Exception as exc:
        logger.exception("order %s: the cancel failed after it may have reached the venue", order.pk)
        answer = OrderResult.unknown(order.client_order_id, f"the connector failed: {exc}")
    if answer.status == ResultStatus.SUCCESS and answer.venue_state:
        return _record_view(order.pk, answer, reason="cancel answer")
    if answer.status == ResultStatus.FAILED and answer.error_code not in (ErrorCode.ORDER_FINAL, ""):
        # The venue refused the cancel for another reason: the order stays open, the trader is told.
        with transaction.atomic():
            order = _locked(order_id)
            order.cancel_requested_at = None
            order.error_message = f"cancel refused by the venue: {answer.error_code} {answer.error_message}"[:2000]
            order._change_reason = f"cancel refused: {answer.error_code}"
            order.save()
            _publish(order)
        return order
    # A lost answer, ORDER_FINAL, or an answer without the order's state: ask the venue.
    found = _ask(order)
    if found is None:
        logger.warning("order %s: cancel outcome unknown and the lookup failed; still CANCEL_REQUESTED", order.pk)
        return order
    return _record_view(order.pk, found, reason="after cancel, venue")


def order_resolve_review(
    *, order_id: int, user: User, placed: bool, exchange_order_id: str = "", note: str = ""
) -> Order:
    """A person's word on an order in review (UNKNOWN, needs_review). Placed: SUCCESS with the
    venue's order id and its signal EXECUTED; its state at the venue is then refreshed like any
    accepted order's. Not placed: FAILED NOT_PLACED_REVIEWED, the signal left orderable and, for
    a follower order, the follower's trade error and pause as for any failed follower order."""
    exchange_order_id = exchange_order_id.strip()
    if placed and not exchange_order_id:
        raise InvalidInput("is required when the order was placed: the venue order id", field="exchange_order_id")
    with transaction.atomic():
        order = _locked(order_id)
        bind_log_context(order_id=order.pk, signal_id=order.signal_id)
        if not (order.status == OrderStatus.UNKNOWN and order.needs_review):
            raise IllegalTransition(f"order {order.pk} is {order.status} and not waiting for review", field="status")
        who = user.get_username()
        order.needs_review = False
        order.reviewed_by = user
        order.reviewed_at = order.completed_at = timezone.now()
        order.review_note = note
        if placed:
            order.status = OrderStatus.SUCCESS
            order.exchange_order_id = exchange_order_id
            order._change_reason = f"review by {who}: placed (venue id {exchange_order_id})"[:100]
        else:
            order.status = OrderStatus.FAILED
            order.error_code = NOT_PLACED_REVIEWED
            order.error_message = f"not placed at the venue, per review by {who}" + (f": {note}" if note else "")
            order._change_reason = f"review by {who}: not placed"
        order.save()
        if placed and order.signal_id is not None:
            signal_mark_executed(signal=Signal.objects.select_for_update().get(pk=order.signal_id))
        if not placed and order.follow_settings_id is not None:
            hooks.follower_order_failed(order)
        _publish(order)
        if placed:
            transaction.on_commit(lambda: _enqueue_for_venue("refresh_order", order))
    logger.info("order %s reviewed by user %s: %s", order.pk, user.pk, "placed" if placed else "not placed")
    return order
