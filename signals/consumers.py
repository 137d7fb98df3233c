from tradedesk import events
from tradedesk.consumers import DeskEventsConsumer


class SignalsConsumer(DeskEventsConsumer):
    """/ws/signals: signal_created and signal_updated events for desk staff."""

    group = events.SIGNALS_GROUP
