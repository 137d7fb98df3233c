"""The mark price override: a fixed price per symbol for tests and demos."""

import logging
from decimal import Decimal

from django.db.models import F

from executor.paper import selectors
from executor.paper.errors import PaperInvalid, PaperNotFound
from executor.paper.models import PaperInstrument
from executor.paper.services.orders import paper_match_open_orders, text

logger = logging.getLogger(__name__)

MAX_PRICE = Decimal("1e17")  # fits the Decimal(28, 10) columns with room for the tick grid


def paper_price_set(*, symbol: str, price: Decimal | None) -> PaperInstrument:
    """Fix the mark of `symbol` at `price` (None goes back to the random walk), then match.

    A fresh round of liquidity comes with each call, so calling it again with the same price lets
    resting orders fill their next part when the instrument has a liquidity limit.
    """
    instrument = selectors.instrument_get(symbol=symbol)
    if instrument is None:
        raise PaperNotFound(f"no instrument {symbol[:20]}")
    if price is not None and not (price.is_finite() and 0 < price < MAX_PRICE and price % instrument.tick_size == 0):
        raise PaperInvalid(f"must be a positive multiple of the tick size {text(instrument.tick_size)}", field="price")
    # Each set is a new round of liquidity, even at the same price (see PaperInstrument.liquidity).
    PaperInstrument.objects.filter(pk=instrument.pk).update(
        override_price=price, override_round=F("override_round") + 1
    )
    instrument.refresh_from_db(fields=["override_price", "override_round"])
    logger.info(
        "paper mark of %s %s", instrument.symbol, f"fixed at {price}" if price is not None else "follows the walk"
    )
    paper_match_open_orders()
    return instrument


def paper_liquidity_set(*, symbol: str, liquidity: Decimal | None) -> PaperInstrument:
    """The most base quantity that trades at one mark (None: unlimited), for partial fills in tests and demos.

    One round of it per walk step, and one per paper_price_set, shared by all orders of the symbol.
    """
    instrument = selectors.instrument_get(symbol=symbol)
    if instrument is None:
        raise PaperNotFound(f"no instrument {symbol[:20]}")
    if liquidity is not None and not (
        liquidity.is_finite() and 0 < liquidity < MAX_PRICE and liquidity % instrument.lot_size == 0
    ):
        step = text(instrument.lot_size)
        raise PaperInvalid(f"must be a positive multiple of the lot size {step}", field="liquidity")
    PaperInstrument.objects.filter(pk=instrument.pk).update(liquidity=liquidity, liquidity_round="", liquidity_used=0)
    instrument.refresh_from_db()
    logger.info("paper liquidity of %s: %s", instrument.symbol, liquidity if liquidity is not None else "unlimited")
    return instrument
