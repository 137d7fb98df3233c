"""The desk's one spelling of a market: `BASE/QUOTE` in upper case (`BTC/USDT`).

Every app takes a symbol through `normalize_symbol` (signal intake, filters, forms, the admin),
so `btc-usdt`, `BTC_USDT` and `BTC/USDT` are one market everywhere. Venues spell it their own
way (the paper exchange `BTC-USDT`, Binance `BTCUSDT`): their connectors translate at the edge.
"""

import re

from tradedesk.exceptions import InvalidInput

SYMBOL_RE = re.compile(r"^([A-Z0-9]{1,15})[/\-_]([A-Z0-9]{1,15})$")

# The same rule for the API schema and a client's first check (either case is taken).
SYMBOL_PATTERN = r"^[A-Za-z0-9]{1,15}[/_-][A-Za-z0-9]{1,15}$"


def normalize_symbol(raw: str) -> str:
    """'btc-usdt', 'BTC_USDT' and 'BTC/USDT' are one market: stored as 'BTC/USDT'."""
    match = SYMBOL_RE.match(raw.strip().upper())
    if not match:
        raise InvalidInput("must look like BASE/QUOTE, e.g. BTC/USDT", field="symbol")
    return f"{match.group(1)}/{match.group(2)}"


def split_symbol(symbol: str) -> tuple[str, str]:
    """BTC/USDT -> (BTC, USDT); a symbol with no quote currency (a stock ticker) -> (AAPL, "")."""
    base, _, quote = symbol.upper().partition("/")
    return base, quote
