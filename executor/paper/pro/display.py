"""How the pro site shows things: pairs as BTC/USDT, grouped numbers, times in its own zone."""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from executor.paper.models import OrderSide, OrderStatus, OrderType, PaperInstrument
from tradedesk.formatting import decimal_text

# The site shows every time in this zone and says so in the table headers; a profile has to
# convert, as on a real venue that is not in UTC.
TIME_ZONE = ZoneInfo("Asia/Singapore")
TIME_ZONE_LABEL = "UTC+8"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DASH = "—"

STATUS_LABELS = {
    OrderStatus.NEW: "Open",
    "PARTIALLY_FILLED": "Partially filled",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELED: "Canceled",
    OrderStatus.REJECTED: "Rejected",
    "EXPIRED": "Expired",
}
SIDE_LABELS = {OrderSide.BUY: "Buy", OrderSide.SELL: "Sell"}
SIDE_CLASSES = {OrderSide.BUY: "css-g1r8b", OrderSide.SELL: "css-r9d2s"}
TYPE_LABELS = {OrderType.LIMIT: "Limit", OrderType.MARKET: "Market"}


@dataclass(frozen=True)
class Precision:
    """Decimal places the site shows for a pair's prices and amounts."""

    price: int
    amount: int

    @classmethod
    def of(cls, instrument: PaperInstrument | None) -> "Precision":
        if instrument is None:
            return cls(price=2, amount=8)
        return cls(price=places(instrument.tick_size), amount=places(instrument.lot_size))


def places(step: Decimal) -> int:
    """0.01 -> 2, 0.0001 -> 4, 1 -> 0."""
    return max(0, -step.normalize().as_tuple().exponent)


def number(value: Decimal | None, decimals: int) -> str:
    """66000.5 -> '66,000.50' (for 2 places); None -> '—'."""
    if value is None:
        return DASH
    quantized = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    return f"{quantized:,.{decimals}f}"


def plain(value: Decimal) -> str:
    """A decimal as plain digits with no trailing zeros (65000, 0.1), for the script to compute with."""
    return decimal_text(value)


def local_time(moment: datetime) -> str:
    return moment.astimezone(TIME_ZONE).strftime(TIME_FORMAT)


def pair_label(symbol: str) -> str:
    """BTC-USDT -> BTC/USDT, as the pages show it."""
    return symbol.replace("-", "/")


def pair_slug(symbol: str) -> str:
    """BTC-USDT -> BTC_USDT, as the URLs and the JSON endpoints spell it."""
    return symbol.replace("-", "_")
