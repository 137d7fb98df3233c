"""The mark price override: a fixed price per symbol for tests and demos."""

import logging
from decimal import Decimal

from executor.paper import selectors
from executor.paper.errors import PaperInvalid, PaperNotFound
from executor.paper.models import PaperInstrument
from executor.paper.services.orders import paper_match_open_orders, text

logger = logging.getLogger(__name__)

MAX_PRICE = Decimal("1e17")  # fits the Decimal(28, 10) columns with room for the tick grid


def paper_price_set(*, symbol: str, price: Decimal | None) -> PaperInstrument:
    """Fix the mark of `symbol` at `price` (None goes back to the random walk), then match."""
    instrument = selectors.instrument_get(symbol=symbol)
    if instrument is None:
        raise PaperNotFound(f"no instrument {symbol[:20]}")
    if price is not None and not (price.is_finite() and 0 < price < MAX_PRICE and price % instrument.tick_size == 0):
        raise PaperInvalid(f"must be a positive multiple of the tick size {text(instrument.tick_size)}", field="price")
    PaperInstrument.objects.filter(pk=instrument.pk).update(override_price=price)
    instrument.override_price = price
    logger.info(
        "paper mark of %s %s", instrument.symbol, f"fixed at {price}" if price is not None else "follows the walk"
    )
    paper_match_open_orders()
    return instrument
