"""Binance's public endpoints: ping, time, exchangeInfo, tickers, depth.

The paper exchange has no order book of its own beyond resting limit orders: the best bid and ask
are both the mark (a MARKET order fills at the mark), with the instrument's liquidity as their
size (a large number when unlimited); /depth adds the resting orders of every account by price.
"""

import json
import re
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone

from executor.paper import selectors
from executor.paper.binance import errors, shapes
from executor.paper.binance.shapes import dec
from executor.paper.binance.wire import Call, endpoint, now_ms
from executor.paper.models import OPEN_STATUSES, OrderSide, PaperInstrument, PaperOrder, PaperTrade

SYMBOL_RE = re.compile(r"^[A-Z0-9_.-]{1,20}$")
SYMBOL_LEGAL = "^[A-Z0-9-_.]{1,20}$"
UNLIMITED_SIZE = Decimal("1000")
MAX_SYMBOLS_TEXT = 2000
DEPTH_LIMITS = (1, 5, 10, 20, 50, 100, 500, 1000, 5000)


def instrument_by_symbol(raw: str) -> PaperInstrument:
    """BTCUSDT → the BTC-USDT instrument; -1100 for a malformed name, -1121 for an unknown one."""
    if not SYMBOL_RE.match(raw):
        raise errors.illegal_chars("symbol", SYMBOL_LEGAL)
    for instrument in selectors.instrument_list():
        if shapes.binance_symbol(instrument.symbol) == raw:
            return instrument
    raise errors.invalid_symbol()


def instruments_asked(call: Call) -> list[PaperInstrument] | None:
    """`symbol=X` or `symbols=["X","Y"]` (JSON), or None for all of them."""
    symbol, symbols = call.text("symbol"), call.text("symbols")
    if symbol and symbols:
        raise errors.BinanceError(-1106, "Parameter 'symbols' sent when not required.")
    if symbol:
        return [instrument_by_symbol(symbol)]
    if symbols:
        try:
            names = json.loads(symbols) if len(symbols) <= MAX_SYMBOLS_TEXT else None
        except (ValueError, RecursionError):
            names = None
        if not isinstance(names, list) or not names or not all(isinstance(name, str) for name in names):
            raise errors.illegal_chars("symbols", '["SYMBOL", ...]')
        return [instrument_by_symbol(name) for name in names]
    return None


def _each(call: Call, shape) -> dict | list:
    asked = instruments_asked(call)
    if asked is not None and call.text("symbol"):
        return shape(asked[0])
    return [shape(instrument) for instrument in (asked or selectors.instrument_list())]


def _size(instrument: PaperInstrument) -> Decimal:
    return instrument.liquidity if instrument.liquidity is not None else UNLIMITED_SIZE


@endpoint(weight=1, signed=False)
def ping(call: Call) -> dict:
    return {}


@endpoint(weight=1, signed=False)
def server_time(call: Call) -> dict:
    return {"serverTime": now_ms()}


@endpoint(weight=20, signed=False)
def exchange_info(call: Call) -> dict:
    asked = instruments_asked(call)
    return {
        "timezone": "UTC",
        "serverTime": now_ms(),
        "rateLimits": shapes.rate_limits(settings.PAPER_BINANCE_WEIGHT_LIMIT),
        "exchangeFilters": [],
        "symbols": [shapes.symbol_info(instrument) for instrument in (asked or selectors.instrument_list())],
    }


@endpoint(weight=lambda call: 2 if call.params.get("symbol") else 4, signed=False)
def ticker_price(call: Call) -> dict | list:
    def shape(instrument: PaperInstrument) -> dict:
        mark = selectors.mark_price(instrument=instrument).price
        return {"symbol": shapes.binance_symbol(instrument.symbol), "price": dec(mark)}

    return _each(call, shape)


@endpoint(weight=lambda call: 2 if call.params.get("symbol") else 4, signed=False)
def book_ticker(call: Call) -> dict | list:
    def shape(instrument: PaperInstrument) -> dict:
        mark, size = selectors.mark_price(instrument=instrument).price, _size(instrument)
        return {
            "symbol": shapes.binance_symbol(instrument.symbol),
            "bidPrice": dec(mark),
            "bidQty": dec(size),
            "askPrice": dec(mark),
            "askQty": dec(size),
        }

    return _each(call, shape)


@endpoint(weight=lambda call: 2 if call.params.get("symbol") else 80, signed=False)
def ticker_24hr(call: Call) -> dict | list:
    now = timezone.now()

    def shape(instrument: PaperInstrument) -> dict:
        last = selectors.mark_price(instrument=instrument, at=now).price
        opened = selectors.mark_price(instrument=instrument, at=now - timedelta(days=1)).price
        trades = PaperTrade.objects.filter(symbol=instrument.symbol, created_at__gte=now - timedelta(days=1))
        stats = trades.aggregate(
            volume=Sum("qty"), quote=Sum("quote_qty"), count=Count("id"), first=Min("id"), last_id=Max("id")
        )
        volume, quote = stats["volume"] or Decimal(0), stats["quote"] or Decimal(0)
        change = last - opened
        return {
            "symbol": shapes.binance_symbol(instrument.symbol),
            "priceChange": dec(change),
            "priceChangePercent": format((change / opened * 100).quantize(Decimal("0.001")), "f"),
            "weightedAvgPrice": dec(quote / volume if volume else last),
            "prevClosePrice": dec(opened),
            "lastPrice": dec(last),
            "lastQty": dec(Decimal(0)),
            "bidPrice": dec(last),
            "bidQty": dec(_size(instrument)),
            "askPrice": dec(last),
            "askQty": dec(_size(instrument)),
            "openPrice": dec(opened),
            # The walk is not kept, so the day's range is known only at its two ends.
            "highPrice": dec(max(opened, last)),
            "lowPrice": dec(min(opened, last)),
            "volume": dec(volume),
            "quoteVolume": dec(quote),
            "openTime": shapes.ms(now - timedelta(days=1)),
            "closeTime": shapes.ms(now),
            "firstId": stats["first"] or -1,
            "lastId": stats["last_id"] or -1,
            "count": stats["count"],
        }

    return _each(call, shape)


@endpoint(weight=lambda call: 5, signed=False)
def depth(call: Call) -> dict:
    instrument = instrument_by_symbol(call.text("symbol", required=True))
    limit = call.long("limit") or 100
    if limit not in DEPTH_LIMITS:
        raise errors.illegal_chars("limit", ", ".join(str(n) for n in DEPTH_LIMITS))
    mark = selectors.mark_price(instrument=instrument).price
    resting = (
        PaperOrder.objects.filter(symbol=instrument.symbol, status__in=OPEN_STATUSES)
        .values("side", "price")
        .annotate(qty=Sum("qty"), filled=Sum("filled_qty"))
    )
    levels = {OrderSide.BUY: {mark: _size(instrument)}, OrderSide.SELL: {mark: _size(instrument)}}
    for row in resting:
        book = levels[row["side"]]
        book[row["price"]] = book.get(row["price"], Decimal(0)) + row["qty"] - row["filled"]
    bids = sorted(levels[OrderSide.BUY].items(), reverse=True)[:limit]
    asks = sorted(levels[OrderSide.SELL].items())[:limit]
    return {
        "lastUpdateId": now_ms(),
        "bids": [[dec(price), dec(qty)] for price, qty in bids],
        "asks": [[dec(price), dec(qty)] for price, qty in asks],
    }
