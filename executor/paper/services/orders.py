"""Placing, cancelling and matching paper orders (spot: a BUY spends quote, a SELL needs base).

Every change to an order, its balances and its position happens in one transaction, after
locking the account's two balance rows of the symbol (always in asset order, so two
transactions never wait on each other in a cycle); the order row is locked after them.
"""

import logging
from decimal import ROUND_DOWN, Decimal, localcontext

from django.db import IntegrityError, transaction

from executor.paper import selectors
from executor.paper.binance import user_data
from executor.paper.errors import DuplicateClientOrderId, OrderNotOpen
from executor.paper.models import (
    OPEN_STATUSES,
    FaultKind,
    OrderSide,
    OrderStatus,
    OrderType,
    PaperAccount,
    PaperBalance,
    PaperInstrument,
    PaperOrder,
    RejectCode,
    TimeInForce,
)
from executor.paper.selectors import MarkPrice
from executor.paper.services.faults import paper_fault_fire
from executor.paper.services.fills import PLACES, buy_reserve, execute, liquidity_take
from tradedesk.formatting import decimal_text

logger = logging.getLogger(__name__)

# Products of two stored amounts (up to 28 digits each) are exact in 60 digits, so a huge
# order is refused for its size instead of tripping Decimal's default 28-digit context.
WIDE_PRECISION = 60
INJECTED_REASONS = {
    RejectCode.INSUFFICIENT_BALANCE: "Insufficient balance for this order.",
    RejectCode.BELOW_MIN_QTY: "Quantity is below the minimum for this symbol.",
    RejectCode.INVALID_QTY_STEP: "Quantity is not a multiple of the lot size.",
    RejectCode.INVALID_TICK: "Price is not a multiple of the tick size.",
    RejectCode.BELOW_MIN_NOTIONAL: "The order value is below the minimum for this symbol.",
    RejectCode.UNKNOWN_SYMBOL: "Unknown symbol.",
}


def text(value: Decimal) -> str:
    """A decimal as plain digits with no trailing zeros: 65000, 0.1."""
    return decimal_text(value)


def _lock_balances(account_id: int, instrument: PaperInstrument) -> dict[str, PaperBalance]:
    assets = sorted({instrument.base_asset, instrument.quote_asset})

    def locked() -> dict[str, PaperBalance]:
        rows = PaperBalance.objects.select_for_update().filter(account_id=account_id, asset__in=assets)
        return {row.asset: row for row in rows.order_by("asset")}

    balances = locked()
    if len(balances) < len(assets):
        missing = [PaperBalance(account_id=account_id, asset=asset) for asset in assets if asset not in balances]
        PaperBalance.objects.bulk_create(missing, ignore_conflicts=True)
        balances = locked()
    return balances


def paper_order_place(
    *,
    account: PaperAccount,
    client_order_id: str,
    symbol: str,
    side: str,
    order_type: str,
    qty: Decimal | None = None,
    price: Decimal | None = None,
    time_in_force: str = TimeInForce.GTC,
    quote_order_qty: Decimal | None = None,
) -> PaperOrder:
    """Place an order: it fills (whole or in part), rests, expires, or is recorded REJECTED.

    A MARKET order may give `quote_order_qty` (what to spend or receive in the quote asset)
    instead of `qty`: its qty is that over the mark, rounded down to the lot size. A MARKET
    order, or a LIMIT IOC/FOK, that cannot fill whole at once ends EXPIRED with what filled.
    Raises DuplicateClientOrderId (and writes nothing) when the account already used the id.
    """
    symbol = selectors.normalize_symbol(symbol)
    instrument = selectors.instrument_get(symbol=symbol)
    mark = selectors.mark_price(instrument=instrument) if instrument else None
    is_limit = order_type == OrderType.LIMIT
    if qty is None:
        qty = _qty_for_quote(quote_order_qty, instrument, mark)
    order = PaperOrder(
        account=account,
        client_order_id=client_order_id,
        symbol=symbol,
        side=side,
        order_type=order_type,
        qty=qty,
        price=price if is_limit else None,
        time_in_force=(time_in_force or TimeInForce.GTC) if is_limit else "",
        quote_order_qty=None if is_limit else quote_order_qty,
        status=OrderStatus.NEW,
    )
    try:
        with localcontext(prec=WIDE_PRECISION), transaction.atomic():
            _place(order, instrument, mark)
    except IntegrityError:
        # Two requests with one client order id raced; the unique constraint let one through.
        existing = PaperOrder.objects.filter(account=account, client_order_id=client_order_id).first()
        if existing is None:
            raise
        raise DuplicateClientOrderId(existing) from None
    logger.info(
        "paper order %s (%s) for %s: %s %s",
        order.order_id,
        client_order_id,
        account.username,
        order.status,
        order.reject_code,
    )
    return order


def _qty_for_quote(quote_qty: Decimal | None, instrument: PaperInstrument | None, mark: MarkPrice | None) -> Decimal:
    if quote_qty is None:
        raise ValueError("paper_order_place needs qty or quote_order_qty")
    if instrument is None or mark is None:
        return Decimal(0)
    with localcontext(prec=WIDE_PRECISION):
        qty = (quote_qty / mark.price).quantize(PLACES, rounding=ROUND_DOWN)
        return qty - qty % instrument.lot_size


def _place(order: PaperOrder, instrument: PaperInstrument | None, mark: MarkPrice | None) -> None:
    existing = PaperOrder.objects.filter(account=order.account, client_order_id=order.client_order_id).first()
    if existing is not None:
        raise DuplicateClientOrderId(existing)
    balances = _lock_balances(order.account_id, instrument) if instrument else {}
    rejection = _injected_rejection(order.account) or _rejection(order, instrument, balances, mark)
    if rejection:
        order.status = OrderStatus.REJECTED
        order.reject_code, order.reject_reason = rejection
        order.save()
        return
    order.save()
    user_data.order_changed(order, "NEW")
    if order.order_type == OrderType.MARKET or _crosses(order, mark.price):
        # Marketable on arrival: it takes the mark, which is the limit price or better.
        whole = order.time_in_force == TimeInForce.FOK
        qty = liquidity_take(instrument=instrument, round_key=mark.round, wanted=order.qty, whole=whole)
        if qty > 0:
            execute(order, instrument, balances, qty=qty, price=mark.price, is_maker=False)
    if order.filled_qty == order.qty:
        order.status = OrderStatus.FILLED
    elif order.order_type == OrderType.MARKET or order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
        order.status = OrderStatus.EXPIRED
    else:
        _rest(order, instrument, balances)
    order.save()
    if order.status == OrderStatus.EXPIRED:
        user_data.order_changed(order, "EXPIRED")


def _injected_rejection(account: PaperAccount) -> tuple[str, str] | None:
    fault = selectors.fault_get(account=account, kind=FaultKind.REJECT)
    if fault is None or not paper_fault_fire(fault=fault):
        return None
    code, _, reason = fault.value.partition(":")
    return code, reason or INJECTED_REASONS.get(code, "The exchange rejected the order.")


def _rejection(
    order: PaperOrder, instrument: PaperInstrument | None, balances: dict[str, PaperBalance], mark: MarkPrice | None
) -> tuple[str, str] | None:
    if instrument is None:
        tradable = ", ".join(selectors.instrument_list().values_list("symbol", flat=True))
        return RejectCode.UNKNOWN_SYMBOL, f"Unknown symbol {order.symbol}. Tradable symbols: {tradable}."
    qty, price, symbol = order.qty, order.price, instrument.symbol
    if qty < instrument.min_qty:
        return (
            RejectCode.BELOW_MIN_QTY,
            f"Quantity {text(qty)} is below the minimum {text(instrument.min_qty)} for {symbol}.",
        )
    if qty % instrument.lot_size:
        return (
            RejectCode.INVALID_QTY_STEP,
            f"Quantity {text(qty)} is not a multiple of the lot size {text(instrument.lot_size)} for {symbol}.",
        )
    if price is not None and price % instrument.tick_size:
        return (
            RejectCode.INVALID_TICK,
            f"Price {text(price)} is not a multiple of the tick size {text(instrument.tick_size)} for {symbol}.",
        )
    at = price if price is not None else mark.price
    if qty * at < instrument.min_notional:
        return (
            RejectCode.BELOW_MIN_NOTIONAL,
            f"Order value {text(qty * at)} {instrument.quote_asset} is below the minimum "
            f"{text(instrument.min_notional)} for {symbol}.",
        )
    if order.side == OrderSide.BUY:
        # Its cost and the fee on it.
        asset, needed = instrument.quote_asset, buy_reserve(qty, at)
    else:
        asset, needed = instrument.base_asset, qty
    free = balances[asset].free
    if free < needed:
        return (
            RejectCode.INSUFFICIENT_BALANCE,
            f"Insufficient {asset} balance: the order needs {text(needed)} {asset}, {text(free)} is available.",
        )
    return None


def _crosses(order: PaperOrder, mark: Decimal) -> bool:
    if order.side == OrderSide.BUY:
        return mark <= order.price
    return mark >= order.price


def _rest(order: PaperOrder, instrument: PaperInstrument, balances: dict[str, PaperBalance]) -> None:
    """What is left rests on the book, its funds locked: quote (cost and fee) for a BUY, base for a SELL."""
    left = order.remaining_qty
    if order.side == OrderSide.BUY:
        balance = balances[instrument.quote_asset]
        # A part that filled on arrival at a better mark may leave a rounding hair less free.
        amount = min(buy_reserve(left, order.price), balance.free)
    else:
        balance = balances[instrument.base_asset]
        amount = left
    order.locked_asset, order.locked_amount = balance.asset, amount
    balance.free -= amount
    balance.locked += amount
    balance.save(update_fields=["free", "locked"])
    user_data.balances_changed(order.account_id, [balance])
    order.status = OrderStatus.PARTIALLY_FILLED if order.filled_qty else OrderStatus.NEW


def paper_order_cancel(*, account: PaperAccount, order: PaperOrder) -> PaperOrder:
    """Cancel an open order (NEW or PARTIALLY_FILLED): what filled stays, the rest's lock is given back.

    Under the same locks as a fill, so a cancel racing a fill ends either FILLED (the cancel is
    refused with OrderNotOpen) or CANCELED with the filled part kept, never both.
    """
    instrument = PaperInstrument.objects.filter(symbol=order.symbol).first()
    if instrument is None:
        # Only a REJECTED order (UNKNOWN_SYMBOL) names a symbol the exchange does not list.
        raise OrderNotOpen(f"order {order.order_id} is {order.status}; only open orders can be canceled")
    with localcontext(prec=WIDE_PRECISION), transaction.atomic():
        balances = _lock_balances(account.pk, instrument)
        order = PaperOrder.objects.select_for_update().get(pk=order.pk, account=account)
        if not order.is_open:
            raise OrderNotOpen(f"order {order.order_id} is {order.status}; only open orders can be canceled")
        balance = balances[order.locked_asset]
        balance.locked -= order.locked_amount
        balance.free += order.locked_amount
        balance.save(update_fields=["free", "locked"])
        order.status = OrderStatus.CANCELED
        order.locked_amount = Decimal(0)
        order.save()
        user_data.order_changed(order, "CANCELED")
        user_data.balances_changed(account.pk, [balance])
    logger.info("paper order %s canceled by %s", order.order_id, account.username)
    return order


def paper_match_open_orders() -> int:
    """Fill resting limit orders the mark has crossed, at their limit price; returns how many fills.

    Best price first, then oldest; each takes what the instrument's liquidity has left this round.
    """
    symbols = set(PaperOrder.objects.filter(status__in=OPEN_STATUSES).values_list("symbol", flat=True))
    fills = 0
    for instrument in PaperInstrument.objects.filter(symbol__in=symbols):
        mark = selectors.mark_price(instrument=instrument)
        open_orders = PaperOrder.objects.filter(status__in=OPEN_STATUSES, symbol=instrument.symbol)
        buys = open_orders.filter(side=OrderSide.BUY, price__gte=mark.price).order_by("-price", "id")
        sells = open_orders.filter(side=OrderSide.SELL, price__lte=mark.price).order_by("price", "id")
        crossed = [*buys.values_list("pk", "account_id"), *sells.values_list("pk", "account_id")]
        for order_id, account_id in crossed:
            try:
                fills += _fill_resting(order_id, account_id, instrument, mark)
            except IntegrityError:
                # Its transaction rolled back; one order whose books do not balance must not stop
                # matching for every other order (this runs before every page and API call).
                logger.exception("paper order %s could not be filled; left open", order_id)
    return fills


def _fill_resting(order_id: int, account_id: int, instrument: PaperInstrument, mark: MarkPrice) -> bool:
    with localcontext(prec=WIDE_PRECISION), transaction.atomic():
        balances = _lock_balances(account_id, instrument)
        order = PaperOrder.objects.select_for_update().filter(pk=order_id, status__in=OPEN_STATUSES).first()
        # Re-checked under the lock: another matcher may have filled it, or a cancel won.
        if order is None or not _crosses(order, mark.price):
            return False
        qty = liquidity_take(instrument=instrument, round_key=mark.round, wanted=order.remaining_qty)
        if qty == 0:
            return False
        execute(order, instrument, balances, qty=qty, price=order.price, is_maker=True)
        order.status = OrderStatus.FILLED if order.filled_qty == order.qty else OrderStatus.PARTIALLY_FILLED
        order.save()
    logger.info("paper order %s: %s %s at %s (mark %s)", order.order_id, order.status, qty, order.price, mark.price)
    return True
