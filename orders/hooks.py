"""The one hook other apps give orders: "a follower order failed".

orders never imports following: copy trading registers its handler at start-up
(following.apps.FollowingConfig.ready). The handler runs inside the transaction that marks the
order FAILED, so the follower's error and pause commit together with the failure."""

import logging
from collections.abc import Callable

from orders.models import Order

logger = logging.getLogger(__name__)

_follower_order_failed: Callable[[Order], None] | None = None


def on_follower_order_failed(handler: Callable[[Order], None]) -> None:
    """Register the handler (one; registering again replaces it)."""
    global _follower_order_failed
    _follower_order_failed = handler


def follower_order_failed(order: Order) -> None:
    if _follower_order_failed is None:
        logger.error("follower order %s failed but no handler is registered (following not installed?)", order.pk)
        return
    _follower_order_failed(order)


# "An order was accepted by the venue (SUCCESS)": any number of handlers (copy trading's
# notifications and its master trigger). Called inside the transaction that records the result,
# so a handler queues its work with transaction.on_commit; a handler that raises is logged and
# never fails the order's recording.
_order_accepted: list[Callable[[Order], None]] = []


def on_order_accepted(handler: Callable[[Order], None]) -> None:
    """Register a handler (once: registering the same function again is a no-op)."""
    if handler not in _order_accepted:
        _order_accepted.append(handler)


def order_accepted(order: Order) -> None:
    for handler in list(_order_accepted):
        try:
            handler(order)
        except Exception:
            logger.exception("order %s: the order-accepted handler %s failed", order.pk, handler.__name__)
