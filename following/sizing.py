"""Quantity maths of copy trading: from a master's position to the follower's target.

Pure functions on Decimals; the engine (following/sync.py) and the status page use them."""

from decimal import ROUND_DOWN, Decimal

ZERO = Decimal("0")


def floor_to(qty: Decimal, step: Decimal) -> Decimal:
    """Round a non-negative quantity down to a multiple of step."""
    if step <= 0:
        return qty
    return (qty / step).to_integral_value(rounding=ROUND_DOWN) * step


def target_qty(master_qty: Decimal, ratio: Decimal, lot: Decimal) -> Decimal:
    sign = -1 if master_qty < 0 else 1
    return sign * floor_to(abs(master_qty) * ratio, lot)


def sign_of(qty: Decimal) -> int:
    return -1 if qty < 0 else 1


def effective_master(master_qty: Decimal, baseline_qty: Decimal) -> Decimal:
    """Joining with changes only: the part of the master's position opened after the follow
    began. The baseline (the master's position at the join) is never copied; once the master
    closes or reverses it, everything from then on is new."""
    if not baseline_qty or master_qty * baseline_qty <= 0:
        return master_qty
    if abs(master_qty) <= abs(baseline_qty):
        return ZERO
    return master_qty - baseline_qty


def shrunk_baseline(master_qty: Decimal, baseline_qty: Decimal) -> Decimal:
    """The baseline after the master sold part of it: what is left of it (never more)."""
    if not baseline_qty or master_qty * baseline_qty <= 0:
        return ZERO
    return sign_of(baseline_qty) * min(abs(master_qty), abs(baseline_qty))


def fixed_notional_target(
    *, master_qty: Decimal, prev_master: Decimal | None, prev_target: Decimal, notional: Decimal, price: Decimal
) -> Decimal:
    """Fixed notional per master trade: each trade that grows the master's position adds
    `notional / price` in its direction; a trade that shrinks it shrinks the copy in proportion;
    a close closes it. Unrounded."""
    if master_qty == 0:
        return ZERO
    step = notional / price
    if prev_master is None or prev_master == 0 or master_qty * prev_master < 0:
        return sign_of(master_qty) * step
    if abs(master_qty) > abs(prev_master):
        return prev_target + sign_of(master_qty) * step
    if abs(master_qty) < abs(prev_master):
        return prev_target * master_qty / prev_master
    return prev_target


def raw_target(
    *,
    mode: str,
    master_qty: Decimal,
    ratio: Decimal,
    equity_factor: Decimal | None = None,
    notional: Decimal | None = None,
    price: Decimal | None = None,
    prev_master: Decimal | None = None,
    prev_target: Decimal = ZERO,
) -> Decimal | None:
    """The follow's target before the venue's lot rounding; None when an input it needs (equity,
    a price) is unknown. ratio: master x ratio (seed 000); equity: master x ratio x follower
    equity / master equity; fixed_notional: see fixed_notional_target."""
    if mode == "equity":
        return None if equity_factor is None else master_qty * ratio * equity_factor
    if mode == "fixed_notional":
        if not notional or not price:
            return None
        return fixed_notional_target(
            master_qty=master_qty, prev_master=prev_master, prev_target=prev_target, notional=notional, price=price
        )
    return master_qty * ratio


def round_target(raw: Decimal, lot: Decimal) -> Decimal:
    return sign_of(raw) * floor_to(abs(raw), lot)


def limit_price(*, side: str, master_price: Decimal, max_slippage: Decimal, tick: Decimal | None) -> Decimal:
    """The slippage guard: a BUY pays at most master x (1 + slippage), a SELL gets at least
    master x (1 - slippage); rounded to the tick inward, so the cap is never exceeded."""
    if side == "BUY":
        price = master_price * (1 + max_slippage)
        return floor_to(price, tick) if tick else price
    price = master_price * (1 - max_slippage)
    if not tick:
        return price
    floored = floor_to(price, tick)
    return floored if floored == price else floored + tick


def slippage(*, side: str, master_price: Decimal, fill_price: Decimal) -> Decimal:
    """Signed fraction against the master's fill: positive when the follower did worse."""
    move = (fill_price - master_price) / master_price
    return move if side == "BUY" else -move
