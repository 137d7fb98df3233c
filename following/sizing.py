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
