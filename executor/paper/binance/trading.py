"""Binance's SIGNED endpoints: account, order (new, test, query, cancel), openOrders, allOrders, myTrades.

Orders go through the paper engine (services.paper_order_place), so they match, fill and lock
funds exactly like orders from the pages and the JSON API. Filters are checked here first, as
Binance does, so an order they refuse is never stored (-1013 "Filter failure: <FILTER>"); an order
the engine refuses for its balance is stored REJECTED and answered -2010. A newClientOrderId the
account already used is refused with -2010 "Duplicate order sent." and places nothing.
"""

import re
import secrets
import string
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal, localcontext

from django.db.models import QuerySet

from executor.paper import guards, selectors, services
from executor.paper.binance import errors, shapes
from executor.paper.binance.market import instrument_by_symbol
from executor.paper.binance.wire import Call, endpoint
from executor.paper.errors import DuplicateClientOrderId, OrderNotOpen
from executor.paper.models import (
    FaultKind,
    OrderSide,
    OrderStatus,
    OrderType,
    PaperInstrument,
    PaperOrder,
    RejectCode,
    TimeInForce,
)
from executor.paper.services.orders import WIDE_PRECISION

CLIENT_ORDER_ID_RE = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
CLIENT_ORDER_ID_LEGAL = "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"
RESPONSE_TYPES = ("ACK", "RESULT", "FULL")
DEFAULT_LIMIT, MAX_LIMIT = 500, 1000
MAX_TIME_MS = 253402300799999  # 9999-12-31T23:59:59.999Z, the last moment a datetime holds
FILTER_OF = {
    RejectCode.BELOW_MIN_QTY: "LOT_SIZE",
    RejectCode.INVALID_QTY_STEP: "LOT_SIZE",
    RejectCode.INVALID_TICK: "PRICE_FILTER",
    RejectCode.BELOW_MIN_NOTIONAL: "NOTIONAL",
}


def _new_client_order_id() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(22))


def _client_order_id(call: Call, name: str) -> str:
    value = call.text(name)
    if value is None:
        return _new_client_order_id()
    if not CLIENT_ORDER_ID_RE.match(value):
        raise errors.illegal_chars(name, CLIENT_ORDER_ID_LEGAL)
    return value


def _order_request(call: Call) -> dict:
    """The engine's arguments for a new order, after Binance's parameter rules and filters."""
    instrument = instrument_by_symbol(call.text("symbol", required=True))
    side = call.text("side", required=True)
    if side not in OrderSide.values:
        raise errors.invalid_side()
    order_type = call.text("type", required=True)
    if order_type not in OrderType.values:
        raise errors.invalid_order_type()
    qty, quote_qty, price = call.decimal("quantity"), call.decimal("quoteOrderQty"), call.decimal("price")
    time_in_force = call.text("timeInForce")
    response_type = call.text("newOrderRespType") or "FULL"
    if response_type not in RESPONSE_TYPES:
        raise errors.illegal_chars("newOrderRespType", ", ".join(RESPONSE_TYPES))
    if order_type == OrderType.LIMIT:
        if time_in_force is None:
            raise errors.mandatory("timeInForce")
        if time_in_force not in TimeInForce.values:
            raise errors.invalid_tif()
        if qty is None:
            raise errors.mandatory("quantity")
        if price is None:
            raise errors.mandatory("price")
        if quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
    else:
        for name, value in (("price", price), ("timeInForce", time_in_force)):
            if value is not None:
                raise errors.not_required(name)
        if qty is None and quote_qty is None:
            raise errors.one_of_mandatory("quantity", "quoteOrderQty")
        if qty is not None and quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
    mark = selectors.mark_price(instrument=instrument).price
    _check_filters(
        instrument, order_type, qty if qty is not None else _qty_for(quote_qty, mark, instrument), price, mark
    )
    return {
        "client_order_id": _client_order_id(call, "newClientOrderId"),
        "symbol": instrument.symbol,
        "side": side,
        "order_type": order_type,
        "qty": qty,
        "price": price,
        "time_in_force": time_in_force or TimeInForce.GTC,
        "quote_order_qty": quote_qty,
        "response_type": response_type,
    }


def _qty_for(quote_qty: Decimal, mark: Decimal, instrument: PaperInstrument) -> Decimal:
    with localcontext(prec=WIDE_PRECISION):
        qty = (quote_qty / mark).quantize(Decimal("1e-10"), rounding=ROUND_DOWN)
        return qty - qty % instrument.lot_size


def _check_filters(
    instrument: PaperInstrument, order_type: str, qty: Decimal, price: Decimal | None, mark: Decimal
) -> None:
    """PRICE_FILTER, LOT_SIZE (and MARKET_LOT_SIZE, the same here), NOTIONAL, in Binance's words."""
    with localcontext(prec=WIDE_PRECISION):
        if price is not None and (
            price < instrument.tick_size or price > shapes.MAX_PRICE or price % instrument.tick_size
        ):
            raise errors.filter_failure("PRICE_FILTER")
        if qty < instrument.min_qty or qty > shapes.MAX_QTY or (qty - instrument.min_qty) % instrument.lot_size:
            raise errors.filter_failure("LOT_SIZE" if order_type == OrderType.LIMIT else "MARKET_LOT_SIZE")
        if qty * (price if price is not None else mark) < instrument.min_notional:
            raise errors.filter_failure("NOTIONAL")


def _refusal(order: PaperOrder) -> errors.BinanceError:
    if order.reject_code == RejectCode.INSUFFICIENT_BALANCE:
        return errors.insufficient_balance()
    if order.reject_code in FILTER_OF:
        return errors.filter_failure(FILTER_OF[order.reject_code])
    if order.reject_code == RejectCode.UNKNOWN_SYMBOL:
        return errors.invalid_symbol()
    return errors.rejected(order.reject_reason or "The order was rejected.")


@endpoint(weight=1, signed=True)
def order_new(call: Call) -> dict:
    request = _order_request(call)
    response_type = request.pop("response_type")
    try:
        order = services.paper_order_place(account=call.account, **request)
    except DuplicateClientOrderId:
        raise errors.duplicate_order() from None
    if guards.lost_reply(call.faults) is not None:
        raise errors.timeout()
    if order.status == OrderStatus.REJECTED:
        raise _refusal(order)
    if response_type == "ACK":
        return shapes.order_ack(order)
    if response_type == "RESULT":
        return shapes.order_result(order)
    return shapes.order_full(order)


@endpoint(weight=1, signed=True)
def order_test(call: Call) -> dict:
    _order_request(call)
    return {}


def _find(call: Call, *, missing: errors.BinanceError) -> PaperOrder:
    instrument = instrument_by_symbol(call.text("symbol", required=True))
    order_id, client_order_id = call.long("orderId"), call.text("origClientOrderId")
    if order_id is None and client_order_id is None:
        raise errors.one_of_mandatory("origClientOrderId", "orderId")
    orders = selectors.order_list(account=call.account).filter(symbol=instrument.symbol)
    # Binance: orderId is searched first; a origClientOrderId sent with it must be that order's.
    order = (
        orders.filter(pk=order_id).first()
        if order_id is not None
        else orders.filter(client_order_id=client_order_id).first()
    )
    if order is None or (client_order_id is not None and order.client_order_id != client_order_id):
        raise missing
    return order


@endpoint(weight=4, signed=True)
def order_query(call: Call) -> dict:
    return shapes.order_query(_find(call, missing=errors.no_such_order()))


@endpoint(weight=1, signed=True)
def order_cancel(call: Call) -> dict:
    order = _find(call, missing=errors.unknown_order())
    cancel_id = _client_order_id(call, "newClientOrderId")
    try:
        order = services.paper_order_cancel(account=call.account, order=order)
    except OrderNotOpen:
        # Binance answers so for an order that filled (or ended) before the cancel reached it.
        raise errors.unknown_order() from None
    if guards.lost_reply(call.faults, FaultKind.LOST_CANCEL_REPLY) is not None:
        raise errors.timeout()
    return shapes.order_canceled(order, cancel_id)


@endpoint(weight=lambda call: 6 if call.params.get("symbol") else 80, signed=True)
def open_orders(call: Call) -> list:
    symbol = call.text("symbol")
    instrument = instrument_by_symbol(symbol) if symbol else None
    orders = selectors.order_list_open(account=call.account, symbol=instrument.symbol if instrument else None)
    return [shapes.order_query(order) for order in orders.order_by("id")]


@endpoint(weight=1, signed=True)
def open_orders_cancel(call: Call) -> list:
    instrument = instrument_by_symbol(call.text("symbol", required=True))
    canceled = []
    for order in selectors.order_list_open(account=call.account, symbol=instrument.symbol).order_by("id"):
        try:
            canceled.append(services.paper_order_cancel(account=call.account, order=order))
        except OrderNotOpen:
            continue  # filled meanwhile
    if not canceled:
        raise errors.unknown_order()
    return [shapes.order_canceled(order, _new_client_order_id()) for order in canceled]


def _moment(call: Call, name: str) -> datetime | None:
    value = call.long(name)
    if value is None:
        return None
    if value > MAX_TIME_MS:
        raise errors.illegal_chars(name, f"0-{MAX_TIME_MS}")
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def _window(call: Call, rows: QuerySet, *, from_name: str) -> QuerySet:
    """Binance's paging: `from_name` (id, inclusive, oldest first) or the newest `limit`, by
    startTime/endTime (ms, inclusive); answered oldest first."""
    limit = call.long("limit") or DEFAULT_LIMIT
    if limit > MAX_LIMIT:
        raise errors.BinanceError(
            -1100, f"Illegal characters found in parameter 'limit'; legal range is '1-{MAX_LIMIT}'."
        )
    start, end, from_id = _moment(call, "startTime"), _moment(call, "endTime"), call.long(from_name)
    if start is not None:
        rows = rows.filter(created_at__gte=start)
    if end is not None:
        rows = rows.filter(created_at__lte=end)
    if from_id is not None:
        return rows.filter(pk__gte=from_id).order_by("id")[:limit]
    newest = list(rows.order_by("-id")[:limit])
    return list(reversed(newest))


@endpoint(weight=20, signed=True)
def all_orders(call: Call) -> list:
    instrument = instrument_by_symbol(call.text("symbol", required=True))
    orders = selectors.order_list(account=call.account).filter(symbol=instrument.symbol)
    return [shapes.order_query(order) for order in _window(call, orders, from_name="orderId")]


@endpoint(weight=20, signed=True)
def my_trades(call: Call) -> list:
    instrument = instrument_by_symbol(call.text("symbol", required=True))
    trades = selectors.trade_list(account=call.account, symbol=instrument.symbol)
    order_id = call.long("orderId")
    if order_id is not None:
        trades = trades.filter(order_id=order_id)
    return [shapes.my_trade(trade) for trade in _window(call, trades, from_name="fromId")]


@endpoint(weight=20, signed=True)
def account(call: Call) -> dict:
    balances = selectors.balance_list(account=call.account)
    if call.text("omitZeroBalances") == "true":
        balances = [row for row in balances if row.free or row.locked]
    return shapes.account(call.account, balances)
