from tradedesk import events
from tradedesk.consumers import DeskEventsConsumer


class OrdersConsumer(DeskEventsConsumer):
    """/ws/orders: order_updated events for desk staff."""

    group = events.ORDERS_GROUP
