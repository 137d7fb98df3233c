"""Errors a paper exchange user can cause, each with a stable code."""

from rest_framework import status

from tradedesk.exceptions import ApplicationError, Conflict, IllegalTransition, InvalidInput, NotFound


class LoginFailed(ApplicationError):
    code = "LOGIN_FAILED"
    http_status = status.HTTP_401_UNAUTHORIZED


class DuplicateClientOrderId(Conflict):
    """The account already has an order with this client order id; it is never placed twice."""

    code = "DUPLICATE_CLIENT_ORDER_ID"

    def __init__(self, order) -> None:
        super().__init__(
            f"client order id {order.client_order_id} was already used by order {order.order_id} "
            f"({order.status}); look it up instead of placing it again."
        )
        self.order = order


class PaperNotFound(NotFound):
    code = "NOT_FOUND"


class PaperInvalid(InvalidInput):
    code = "INVALID"


class OrderNotOpen(IllegalTransition):
    code = "ORDER_NOT_OPEN"
