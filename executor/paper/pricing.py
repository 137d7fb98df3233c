"""The paper price feed: a deterministic random walk, one step per second.

The log price is a Brownian bridge over windows of 2**20 steps (about 12 days), built by
midpoint displacement (Lévy's construction): a step's value is found by halving its window down
to it, each midpoint displaced by noise from a hash of (seed, symbol, interval). So:
- the same seed and step always give the same price, with no state to cache or replay;
- any step costs 20 hashes;
- one step to the next moves like a random walk, yet each window starts and ends at the
  instrument's start price, so the price never wanders off for good.
The arithmetic is Decimal throughout.
"""

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from functools import lru_cache

STEP = timedelta(seconds=1)
ORIGIN = datetime(2025, 1, 1, tzinfo=UTC)
WINDOW_LEVELS = 20
WINDOW = 2**WINDOW_LEVELS

_TWO_64 = Decimal(2**64)
# Four uniforms on [-1, 1] have variance 4/3; this scales their sum to variance 1.
_UNIT = Decimal(3).sqrt() / 2


def step_at(moment: datetime) -> int:
    return max(0, (moment - ORIGIN) // STEP)


def step_time(step: int) -> datetime:
    return ORIGIN + step * STEP


def _noise(seed: str, symbol: str, low: int, high: int) -> Decimal:
    """Roughly standard normal noise for one interval: a scaled sum of four uniforms."""
    digest = hashlib.sha256(f"{seed}|{symbol}|{low}|{high}".encode()).digest()
    total = Decimal(0)
    for index in range(4):
        chunk = int.from_bytes(digest[index * 8 : index * 8 + 8], "big")
        total += Decimal(chunk) / _TWO_64 * 2 - 1
    return total * _UNIT


@lru_cache(maxsize=4096)
def walk(seed: str, symbol: str, step: int) -> Decimal:
    """The bridge's value at `step`: 0 at each window's ends, variance up to WINDOW / 4 inside."""
    with localcontext() as context:
        context.prec = 34
        low = step - step % WINDOW
        high = low + WINDOW
        value_low = value_high = Decimal(0)
        while step not in (low, high):
            middle = (low + high) // 2
            # Given both ends, a Brownian midpoint is their mean plus noise of variance length / 4.
            spread = Decimal(high - low).sqrt() / 2
            value_middle = (value_low + value_high) / 2 + spread * _noise(seed, symbol, low, high)
            if step < middle:
                high, value_high = middle, value_middle
            else:
                low, value_low = middle, value_middle
        return value_low if step == low else value_high


def to_tick(price: Decimal, tick: Decimal) -> Decimal:
    """The nearest multiple of the tick, never below one tick."""
    ticks = (price / tick).to_integral_value(rounding=ROUND_HALF_EVEN)
    return max(ticks, Decimal(1)) * tick


def walk_price(
    *, seed: str, symbol: str, start_price: Decimal, volatility: Decimal, tick: Decimal, step: int
) -> Decimal:
    """start_price × exp(volatility × walk): a geometric random walk on the tick grid."""
    with localcontext() as context:
        context.prec = 34
        price = start_price * (volatility * walk(seed, symbol, step)).exp()
        return to_tick(price, tick)
