"""Placing, cancelling and matching paper orders (spot: a BUY spends quote, a SELL needs base).

Every change to an order, its balances and its position happens in one transaction, after
locking the account's two balance rows of the symbol (always in asset order, so two
transactions never wait on each other in a cycle); the order row is locked after them.
"""

import logging
from decimal import ROUND_DOWN, ROUND_UP, Decimal, localcontext

from django.db import IntegrityError, transaction
from django.db.models import Q

from executor.paper import selectors
from executor.paper.errors import DuplicateClientOrderId, OrderNotOpen
from executor.paper.models import (
    FaultKind,
    OrderSide,
    OrderStatus,
    OrderType,
    PaperAccount,
    PaperBalance,
    PaperInstrument,
    PaperOrder,
    PaperPosition,
    RejectCode,
)
from executor.paper.services.faults import paper_fault_fire

logger = logging.getLogger(__name__)

PLACES = Decimal("1e-10")  # the precision of every stored amount
# Products of two stored amounts (up to 28 digits each) are exact in 60 digits, so a huge
# order is refused for its size instead of tripping Decimal's default 28-digit context.
WIDE_PRECISION = 60
INJECTED_REASONS = {
    RejectCode.INSUFFICIENT_BALANCE: "Insufficient balance for this order.",
    RejectCode.BELOW_MIN_QTY: "Quantity is below the minimum for this symbol.",
    RejectCode.INVALID_QTY_STEP: "Quantity is not a multiple of the lot size.",
    RejectCode.INVALID_TICK: "Price is not a multiple of the tick size.",
    RejectCode.UNKNOWN_SYMBOL: "Unknown symbol.",
}


def text(value: Decimal) -> str:
    """A decimal as plain digits with no trailing zeros: 65000, 0.1."""
    return format(value.normalize(), "f")


def _cost(qty: Decimal, price: Decimal) -> Decimal:
    # Rounded against the trader, so the exchange never hands out a fraction it does not hold.
    return (qty * price).quantize(PLACES, rounding=ROUND_UP)


def _proceeds(qty: Decimal, price: Decimal) -> Decimal:
    return (qty * price).quantize(PLACES, rounding=ROUND_DOWN)


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
    qty: Decimal,
    price: Decimal | None = None,
) -> PaperOrder:
    """Place an order: it fills, rests, or is recorded as REJECTED with a code and reason.

    Raises DuplicateClientOrderId (and writes nothing) when the account already used the id.
    """
    symbol = selectors.normalize_symbol(symbol)
    instrument = selectors.instrument_get(symbol=symbol)
    mark = selectors.mark_price(instrument=instrument).price if instrument else None
    order = PaperOrder(
        account=account,
        client_order_id=client_order_id,
        symbol=symbol,
        side=side,
        order_type=order_type,
        qty=qty,
        price=price if order_type == OrderType.LIMIT else None,
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


def _place(order: PaperOrder, instrument: PaperInstrument | None, mark: Decimal | None) -> None:
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
    if order.order_type == OrderType.MARKET or _crosses(order, mark):
        # Marketable on arrival: it takes the mark, which is the limit price or better.
        _fill(order, instrument, balances, fill_price=mark, from_locked=False)
    else:
        _rest(order, instrument, balances)


def _injected_rejection(account: PaperAccount) -> tuple[str, str] | None:
    fault = selectors.fault_get(account=account, kind=FaultKind.REJECT)
    if fault is None or not paper_fault_fire(fault=fault):
        return None
    code, _, reason = fault.value.partition(":")
    return code, reason or INJECTED_REASONS.get(code, "The exchange rejected the order.")


def _rejection(
    order: PaperOrder, instrument: PaperInstrument | None, balances: dict[str, PaperBalance], mark: Decimal | None
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
    if order.side == OrderSide.BUY:
        asset, needed = instrument.quote_asset, _cost(qty, price if price is not None else mark)
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
    if order.side == OrderSide.BUY:
        order.locked_asset, order.locked_amount = instrument.quote_asset, _cost(order.qty, order.price)
    else:
        order.locked_asset, order.locked_amount = instrument.base_asset, order.qty
    balance = balances[order.locked_asset]
    balance.free -= order.locked_amount
    balance.locked += order.locked_amount
    balance.save(update_fields=["free", "locked"])
    order.save(update_fields=["locked_asset", "locked_amount", "updated_at"])


def _fill(
    order: PaperOrder,
    instrument: PaperInstrument,
    balances: dict[str, PaperBalance],
    *,
    fill_price: Decimal,
    from_locked: bool,
) -> None:
    base, quote = balances[instrument.base_asset], balances[instrument.quote_asset]
    if order.side == OrderSide.BUY:
        cost = _cost(order.qty, fill_price)
        if from_locked:
            # The lock was at the limit price; any better fill gives the difference back.
            quote.locked -= order.locked_amount
            quote.free += order.locked_amount - cost
        else:
            quote.free -= cost
        base.free += order.qty
    else:
        if from_locked:
            base.locked -= order.locked_amount
        else:
            base.free -= order.qty
        quote.free += _proceeds(order.qty, fill_price)
    for balance in (base, quote):
        balance.save(update_fields=["free", "locked"])
    _position_apply(order, fill_price)
    order.status = OrderStatus.FILLED
    order.filled_qty = order.qty
    order.avg_price = fill_price
    order.locked_amount = Decimal(0)
    order.save()


def _position_apply(order: PaperOrder, fill_price: Decimal) -> None:
    position, _ = PaperPosition.objects.select_for_update().get_or_create(
        account_id=order.account_id, symbol=order.symbol
    )
    if order.side == OrderSide.BUY:
        held = position.qty * (position.avg_price or Decimal(0))
        position.qty += order.qty
        position.avg_price = ((held + order.qty * fill_price) / position.qty).quantize(PLACES)
    else:
        # Selling reduces the holding at its average price; a sale of assets deposited
        # outside any position cannot take it below zero.
        position.qty = max(Decimal(0), position.qty - order.qty)
        if position.qty == 0:
            position.avg_price = None
    position.save()


def paper_order_cancel(*, account: PaperAccount, order: PaperOrder) -> PaperOrder:
    """Cancel a resting order and give back what it locked."""
    instrument = PaperInstrument.objects.get(symbol=order.symbol)
    with localcontext(prec=WIDE_PRECISION), transaction.atomic():
        balances = _lock_balances(account.pk, instrument)
        order = PaperOrder.objects.select_for_update().get(pk=order.pk, account=account)
        if order.status != OrderStatus.NEW:
            raise OrderNotOpen(f"order {order.order_id} is {order.status}; only NEW orders can be canceled")
        balance = balances[order.locked_asset]
        balance.locked -= order.locked_amount
        balance.free += order.locked_amount
        balance.save(update_fields=["free", "locked"])
        order.status = OrderStatus.CANCELED
        order.locked_amount = Decimal(0)
        order.save()
    logger.info("paper order %s canceled by %s", order.order_id, account.username)
    return order


def paper_match_open_orders() -> int:
    """Fill every resting limit order the mark has crossed, at its limit price; returns how many."""
    symbols = set(PaperOrder.objects.filter(status=OrderStatus.NEW).values_list("symbol", flat=True))
    filled = 0
    for instrument in PaperInstrument.objects.filter(symbol__in=symbols):
        mark = selectors.mark_price(instrument=instrument).price
        crossed = PaperOrder.objects.filter(status=OrderStatus.NEW, symbol=instrument.symbol).filter(
            Q(side=OrderSide.BUY, price__gte=mark) | Q(side=OrderSide.SELL, price__lte=mark)
        )
        for order_id, account_id in crossed.values_list("pk", "account_id"):
            filled += _fill_resting(order_id, account_id, instrument, mark)
    return filled


def _fill_resting(order_id: int, account_id: int, instrument: PaperInstrument, mark: Decimal) -> bool:
    with localcontext(prec=WIDE_PRECISION), transaction.atomic():
        balances = _lock_balances(account_id, instrument)
        order = PaperOrder.objects.select_for_update().filter(pk=order_id, status=OrderStatus.NEW).first()
        # Re-checked under the lock: another matcher may have filled it, or a cancel won.
        if order is None or not _crosses(order, mark):
            return False
        _fill(order, instrument, balances, fill_price=order.price, from_locked=True)
    logger.info("paper order %s filled at %s (mark %s)", order.order_id, order.price, mark)
    return True
