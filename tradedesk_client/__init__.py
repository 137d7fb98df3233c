"""TradeDesk strategy client: post signals with safe retries and a local outbox.

Standard library only. Import it from a checkout of the desk, or install it on its own:
`pip install ./tradedesk_client`.
"""

from tradedesk_client.client import (
    AuthenticationFailed,
    DeliveryFailed,
    ResendReport,
    Retry,
    SentSignal,
    SignalRejected,
    TradeDeskClient,
    TradeDeskError,
    new_idempotency_key,
)
from tradedesk_client.outbox import Outbox

__all__ = [
    "AuthenticationFailed",
    "DeliveryFailed",
    "Outbox",
    "ResendReport",
    "Retry",
    "SentSignal",
    "SignalRejected",
    "TradeDeskClient",
    "TradeDeskError",
    "new_idempotency_key",
]
