"""The User Data Stream's events (binance-spot-api-docs user-data-stream.md), published by the
paper services for every order change of an account, whatever placed the order.

Each payload is built when the change is made, from the rows in hand (the order row changes
again later in the same transaction: a MARKET order's TRADE is followed by its EXPIRED), and sent
only after the transaction commits, to the account's group; stream.py forwards it to every
WebSocket API connection subscribed to that account. Nobody listening costs one group_send per
change. Imports no view code, so the services can import it (wire.py imports the services).
"""

import time
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction

from executor.paper.binance.shapes import binance_symbol, dec, ms
from executor.paper.models import OrderType, PaperBalance, PaperOrder, PaperTrade, TimeInForce
from tradedesk import events

MESSAGE_TYPE = "paper.binance.event"  # PaperUserDataConsumer.paper_binance_event


def group(account_id: int) -> str:
    return f"paper-binance-uds-{account_id}"


def _now_ms() -> int:
    return int(time.time() * 1000)


def execution_report(order: PaperOrder, execution: str, trade: PaperTrade | None = None) -> dict:
    """`executionReport` for one change: execution type NEW, TRADE (with `trade`), CANCELED or EXPIRED.

    A TRADE's status is FILLED or PARTIALLY_FILLED from the order's sums after the trade (the
    caller sets the status later); the others report the order's status as it is. The paper
    exchange takes no client order id for a cancel, so on CANCELED `c` and `C` are both the order's.
    """
    if trade is not None:
        status = "FILLED" if order.filled_qty == order.qty else "PARTIALLY_FILLED"
        moment = ms(trade.created_at)
    else:
        status = order.status
        moment = ms(order.updated_at if execution != "NEW" else order.created_at)
    resting = order.order_type == OrderType.LIMIT and order.time_in_force == TimeInForce.GTC
    return {
        "e": "executionReport",
        "E": _now_ms(),
        "s": binance_symbol(order.symbol),
        "c": order.client_order_id,
        "S": order.side,
        "o": order.order_type,
        "f": order.time_in_force or "GTC",
        "q": dec(order.qty),
        "p": dec(order.price if order.order_type == OrderType.LIMIT else Decimal(0)),
        "P": dec(Decimal(0)),
        "F": dec(Decimal(0)),
        "g": -1,
        "C": order.client_order_id if execution == "CANCELED" else "",
        "x": execution,
        "X": status,
        "r": "NONE",
        "i": order.pk,
        "l": dec(trade.qty if trade else Decimal(0)),
        "z": dec(order.filled_qty),
        "L": dec(trade.price if trade else Decimal(0)),
        "n": dec(trade.fee) if trade else "0",
        "N": trade.fee_asset if trade else None,
        "T": moment,
        "t": trade.pk if trade else -1,
        "I": order.pk,
        "w": resting and status in ("NEW", "PARTIALLY_FILLED"),
        "m": trade.is_maker if trade else False,
        "M": False,
        "O": ms(order.created_at),
        "Z": dec(order.filled_quote),
        "Y": dec(trade.quote_qty if trade else Decimal(0)),
        "Q": dec(order.quote_order_qty),
        "W": ms(order.created_at),
        "V": "NONE",
    }


def account_position(balances: Iterable[PaperBalance]) -> dict:
    """`outboundAccountPosition`: the assets the change touched, as they are now."""
    now = _now_ms()
    rows = sorted(balances, key=lambda row: row.asset)
    return {
        "e": "outboundAccountPosition",
        "E": now,
        "u": now,
        "B": [{"a": row.asset, "f": dec(row.free), "l": dec(row.locked)} for row in rows],
    }


def _send_on_commit(account_id: int, event: dict) -> None:
    message = {"type": MESSAGE_TYPE, "account": account_id, "event": event}
    transaction.on_commit(lambda: events.send(group(account_id), message))


def order_changed(order: PaperOrder, execution: str, trade: PaperTrade | None = None) -> None:
    """Publish the order's executionReport once the caller's transaction commits."""
    _send_on_commit(order.account_id, execution_report(order, execution, trade))


def balances_changed(account_id: int, balances: Iterable[PaperBalance]) -> None:
    """Publish the account's outboundAccountPosition once the caller's transaction commits."""
    _send_on_commit(account_id, account_position(balances))
