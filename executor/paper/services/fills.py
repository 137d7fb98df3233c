"""One execution of a paper order: liquidity, fees, balances, position, the Trade row.

Called by orders.py inside its transaction, after it locked the account's balance rows of the
symbol and the order row; the instrument row (liquidity) is locked last, so every writer takes
the locks in the same order: balances (by asset), order, instrument.

Fees: a fraction of the fill's quote amount (PAPER_MAKER_FEE_RATE for an order filled while
resting, PAPER_TAKER_FEE_RATE on arrival), always charged in the quote asset: a BUY pays it on
top of the cost, a SELL has it taken from the proceeds.
"""

from decimal import ROUND_DOWN, ROUND_UP, Decimal

from django.conf import settings

from executor.paper.binance import user_data
from executor.paper.models import OrderSide, PaperBalance, PaperInstrument, PaperOrder, PaperPosition, PaperTrade

PLACES = Decimal("1e-10")  # the precision of every stored amount


def cost(qty: Decimal, price: Decimal) -> Decimal:
    # Rounded against the trader, so the exchange never hands out a fraction it does not hold.
    return (qty * price).quantize(PLACES, rounding=ROUND_UP)


def proceeds(qty: Decimal, price: Decimal) -> Decimal:
    return (qty * price).quantize(PLACES, rounding=ROUND_DOWN)


def fee_rate(*, is_maker: bool) -> Decimal:
    return Decimal(str(settings.PAPER_MAKER_FEE_RATE if is_maker else settings.PAPER_TAKER_FEE_RATE))


def fee_for(quote_qty: Decimal, *, is_maker: bool) -> Decimal:
    return (quote_qty * fee_rate(is_maker=is_maker)).quantize(PLACES, rounding=ROUND_UP)


def buy_reserve(qty: Decimal, price: Decimal) -> Decimal:
    """What a BUY of qty at price may cost with its fee, at the higher of the two rates."""
    amount = cost(qty, price)
    rate = max(fee_rate(is_maker=True), fee_rate(is_maker=False))
    return amount + (amount * rate).quantize(PLACES, rounding=ROUND_UP)


def liquidity_take(*, instrument: PaperInstrument, round_key: str, wanted: Decimal, whole: bool = False) -> Decimal:
    """How much of `wanted` can trade now at this mark; it is then used up for this round.

    `whole` (fill or kill): all of it or nothing. The instrument row is locked when it has a
    liquidity limit, so two fills never take the same liquidity. Unlimited (no limit, the
    default), nothing is shared and nothing is locked: the lock, held to the end of the order's
    transaction, made every fill of a symbol at the venue wait for the one before.
    """
    # One statement: a row with a limit comes back locked; one without (or whose limit was just
    # lifted by a transaction this one waited for) does not match and is not locked.
    row = PaperInstrument.objects.select_for_update().filter(pk=instrument.pk, liquidity__isnull=False).first()
    if row is None:
        return wanted
    used = row.liquidity_used if row.liquidity_round == round_key else Decimal(0)
    available = max(Decimal(0), row.liquidity - used)
    available -= available % row.lot_size
    got = min(wanted, available)
    if whole and got < wanted:
        got = Decimal(0)
    PaperInstrument.objects.filter(pk=row.pk).update(liquidity_round=round_key, liquidity_used=used + got)
    return got


def execute(
    order: PaperOrder,
    instrument: PaperInstrument,
    balances: dict[str, PaperBalance],
    *,
    qty: Decimal,
    price: Decimal,
    is_maker: bool,
) -> PaperTrade:
    """Fill `qty` of the order at `price`: move the balances (from its lock if it rests), record the Trade.

    The caller sets the order's status and saves it.
    """
    base, quote = balances[instrument.base_asset], balances[instrument.quote_asset]
    resting = order.locked_amount > 0
    if order.side == OrderSide.BUY:
        quote_qty = cost(qty, price)
        fee = fee_for(quote_qty, is_maker=is_maker)
        charge = quote_qty + fee
        if resting:
            # Keep the lock for what is left (never more than the lock minus this charge),
            # hand back the rest of what this part had locked.
            left = order.remaining_qty - qty
            keep = min(buy_reserve(left, order.price), order.locked_amount - charge) if left > 0 else Decimal(0)
            released = order.locked_amount - keep
            quote.locked -= released
            quote.free += released - charge
            order.locked_amount = keep
        else:
            quote.free -= charge
        base.free += qty
    else:
        quote_qty = proceeds(qty, price)
        fee = fee_for(quote_qty, is_maker=is_maker)
        if resting:
            base.locked -= qty
            order.locked_amount -= qty
        else:
            base.free -= qty
        quote.free += quote_qty - fee
    for balance in (base, quote):
        balance.save(update_fields=["free", "locked"])
    _position_apply(order, qty, price)
    order.filled_qty += qty
    order.filled_quote += quote_qty
    order.fee += fee
    order.fee_asset = instrument.quote_asset
    order.avg_price = (order.filled_quote / order.filled_qty).quantize(PLACES)
    trade = PaperTrade.objects.create(
        account_id=order.account_id,
        order=order,
        symbol=order.symbol,
        side=order.side,
        qty=qty,
        price=price,
        quote_qty=quote_qty,
        fee=fee,
        fee_asset=instrument.quote_asset,
        is_maker=is_maker,
    )
    user_data.order_changed(order, "TRADE", trade)
    user_data.balances_changed(order.account_id, (base, quote))
    return trade


def _position_apply(order: PaperOrder, qty: Decimal, price: Decimal) -> None:
    position, _ = PaperPosition.objects.select_for_update().get_or_create(
        account_id=order.account_id, symbol=order.symbol
    )
    if order.side == OrderSide.BUY:
        held = position.qty * (position.avg_price or Decimal(0))
        position.qty += qty
        position.avg_price = ((held + qty * price) / position.qty).quantize(PLACES)
    else:
        # Selling reduces the holding at its average price; a sale of assets deposited
        # outside any position cannot take it below zero.
        position.qty = max(Decimal(0), position.qty - qty)
        if position.qty == 0:
            position.avg_price = None
    position.save()
