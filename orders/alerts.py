"""Alerts about desk orders (ops.alerts sends them: one message per incident, ALERT_URLS)."""

from django.conf import settings

from ops import alerts
from orders.models import Order
from tradedesk.formatting import decimal_text

ORDER_FAILED = "order_failed"
ORDER_NEEDS_REVIEW = "order_needs_review"


def alert_order_failed(*, order_id: int) -> bool:
    """An order reached FAILED. One incident per account (or venue) and error code, so a venue
    outage that fails fifty orders sends one message, and a different error sends its own."""
    order = Order.objects.select_related("exchange_account").filter(pk=order_id).first()
    if order is None:
        return False
    where = order.exchange_account.label if order.exchange_account else order.venue
    return alerts.send_alert(
        event=ORDER_FAILED,
        key=f"{order.exchange_account_id or order.venue}:{order.error_code or 'none'}",
        title=f"Order #{order.pk} failed: {order.error_code or 'error'} on {where}",
        body=(
            f"{order.side} {decimal_text(order.qty)} {order.symbol} ({order.order_type}) failed at {where}.\n"
            f"Error {order.error_code}: {order.error_message}\n"
            f"Client order id: {order.client_order_id}\n"
            f"Further failures with this error on this account are not sent again for "
            f"{settings.ALERT_DEDUP_SECONDS // 60} minutes; see /metrics or the orders page."
        ),
    )


def alert_order_needs_review(*, order_id: int) -> bool:
    """An order's outcome cannot be settled by looking it up (a venue searched by the order's own
    fields found no or several matching rows): a person must say whether it was placed. One
    incident per order, sent when it enters the review list."""
    order = Order.objects.select_related("exchange_account").filter(pk=order_id).first()
    if order is None:
        return False
    where = order.exchange_account.label if order.exchange_account else order.venue
    return alerts.send_alert(
        event=ORDER_NEEDS_REVIEW,
        key=str(order.pk),
        title=f"Order #{order.pk} needs review: was it placed on {where}?",
        body=(
            f"{order.side} {decimal_text(order.qty)} {order.symbol} ({order.order_type}) at {where}: "
            f"the answer was lost and the venue lookup cannot tell whether it was placed.\n"
            f"{order.error_message}\n"
            f"Its quantity keeps counting toward the limits and its signal stays blocked until a trader "
            f"resolves it: orders page, filter 'Needs review' (or POST /api/orders/{order.pk}/resolve)."
        ),
    )
