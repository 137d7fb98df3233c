"""An example strategy: a moving-average cross on the paper exchange's prices, with its signals
sent to the desk through the strategy client (tradedesk_client).

    API_BASE_URL=http://127.0.0.1:8000 API_KEY=... python -m examples.strategy

It polls the paper exchange's public price feed (GET {PAPER_BASE_URL}/api/prices/{symbol};
PAPER_BASE_URL defaults to API_BASE_URL + /paper) every --interval seconds, keeps a fast and a
slow moving average per symbol, and posts a BUY signal when the fast one crosses above the slow
one by more than --threshold (a relative band, so noise around the cross does not flap), a SELL
when it crosses below. It never places orders: the desk's staff decide.

Every signal's Idempotency-Key is made from the strategy, the symbol, the side and the price
feed's time, so a restarted strategy that sees the same cross again cannot post it twice. What
the desk could not take goes to the outbox (TRADEDESK_OUTBOX) and is resent, once, when the
desk answers again; signals older than --max-age are dropped rather than sent late.

Options can also come from the environment (STRATEGY_SYMBOLS, STRATEGY_INTERVAL, STRATEGY_FAST,
STRATEGY_SLOW, STRATEGY_QTY, STRATEGY_THRESHOLD, STRATEGY_COOLDOWN), which is how
`manage.py rundesk --strategy` passes them on.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal

from tradedesk_client import DeliveryFailed, Retry, SignalRejected, TradeDeskClient

logger = logging.getLogger("strategy")

NAME = "ma_cross_v1"


@dataclass
class MovingAverageCross:
    """Fast and slow simple moving averages of one symbol's prices; `update` says when they cross."""

    fast: int
    slow: int
    threshold: Decimal = Decimal("0")
    prices: deque = field(init=False)
    trend: int | None = field(default=None, init=False)  # +1 fast above slow, -1 below, 0 flat
    _previous: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.fast < self.slow:
            raise ValueError("need 0 < fast < slow")
        self.prices = deque(maxlen=self.slow)

    @property
    def ready(self) -> bool:
        return len(self.prices) == self.slow

    def averages(self) -> tuple[Decimal, Decimal]:
        values = list(self.prices)
        return sum(values[-self.fast :]) / self.fast, sum(values) / self.slow

    def update(self, price: Decimal) -> str | None:
        """Add a price; "BUY" or "SELL" when the fast average has just crossed the slow one."""
        self.prices.append(price)
        if not self.ready:
            return None
        fast, slow = self.averages()
        gap = (fast - slow) / slow
        side = 1 if gap > self.threshold else -1 if gap < -self.threshold else 0
        if self.trend is None:
            # The first full window only sets the scene: a strategy does not trade on start-up.
            self.trend = side
            return None
        if side == 0 or side == self.trend:
            return None  # inside the band, or no change: keep the last trend (hysteresis)
        self._previous, self.trend = self.trend, side
        return "BUY" if side > 0 else "SELL"

    def postpone(self) -> None:
        """Forget the cross just reported, so it is reported again on the next price if it holds."""
        self.trend = self._previous


@dataclass
class Quote:
    symbol: str
    price: Decimal
    time: str


class PriceFeed:
    """The paper exchange's public price endpoint."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def quote(self, symbol: str) -> Quote:
        url = f"{self.base_url}/api/prices/{urllib.parse.quote(symbol)}"
        with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310 (configured URL)
            data = json.loads(response.read())
        return Quote(symbol=data["symbol"], price=Decimal(data["price"]), time=data["time"])


@dataclass
class Options:
    symbols: list[str]
    interval: float = 1.0
    fast: int = 5
    slow: int = 20
    qty: Decimal = Decimal("0.01")
    threshold: Decimal = Decimal("0.00005")
    cooldown: float = 30.0
    max_age: float = 300.0
    max_signals: int | None = None


class Strategy:
    def __init__(self, client: TradeDeskClient, feed: PriceFeed, options: Options) -> None:
        self.client = client
        self.feed = feed
        self.options = options
        self.crosses = {s: MovingAverageCross(options.fast, options.slow, options.threshold) for s in options.symbols}
        self.last_signal_at: dict[str, float] = {}
        self.sent: list[int] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        logger.info(
            "%s watching %s every %gs (MA %d/%d); signals to %s",
            NAME,
            ", ".join(self.options.symbols),
            self.options.interval,
            self.options.fast,
            self.options.slow,
            self.client.base_url,
        )
        self.resend()
        last_resend = time.monotonic()
        while not self.stopping.is_set() and not self.done and not self.orphaned:
            for symbol in self.options.symbols:
                self.step(symbol)
            if time.monotonic() - last_resend > 30:
                self.resend()
                last_resend = time.monotonic()
            self.stopping.wait(self.options.interval)

    @property
    def orphaned(self) -> bool:
        """Started by `rundesk --strategy`, whose process is gone (killed without stopping us)."""
        parent = os.environ.get("STRATEGY_PARENT_PID")
        return bool(parent) and os.getppid() != int(parent)

    @property
    def done(self) -> bool:
        return self.options.max_signals is not None and len(self.sent) >= self.options.max_signals

    def step(self, symbol: str) -> None:
        try:
            quote = self.feed.quote(symbol)
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("%s: no price (%s)", symbol, exc)
            return
        cross = self.crosses[symbol]
        was_ready = cross.ready
        side = cross.update(quote.price)
        if cross.ready and not was_ready:
            logger.info("%s: averages ready at %s", symbol, quote.price)
        if side is None or self.done:
            return
        since = time.monotonic() - self.last_signal_at.get(symbol, float("-inf"))
        if since < self.options.cooldown:
            # Too soon after the last signal: sent once the cooldown is over, if the cross still holds.
            cross.postpone()
            logger.debug("%s: %s cross waits for the cooldown (%.0fs since the last signal)", symbol, side, since)
            return
        self.send(quote, side)

    def send(self, quote: Quote, side: str) -> None:
        fast, slow = self.crosses[quote.symbol].averages()
        direction = "above" if side == "BUY" else "below"
        stamp = "".join(ch for ch in quote.time if ch.isdigit())[:20]
        self.last_signal_at[quote.symbol] = time.monotonic()
        try:
            signal_id = self.client.send_signal(
                symbol=quote.symbol.replace("-", "/"),
                side=side,
                suggest_price=quote.price,
                suggest_qty=self.options.qty,
                strategy_name=NAME,
                reason=f"MA({self.options.fast}) {fast:.2f} crossed {direction} MA({self.options.slow}) {slow:.2f}",
                idempotency_key=f"{NAME}-{quote.symbol}-{side}-{stamp}",
            )
        except SignalRejected as rejected:
            logger.error("%s %s refused by the desk: %s %s", side, quote.symbol, rejected.code, rejected.fields)
            return
        except DeliveryFailed as failed:
            logger.error("%s %s not delivered yet: %s", side, quote.symbol, failed)
            return
        self.sent.append(signal_id)
        logger.info("%s %s %s @ %s: signal %s", side, self.options.qty, quote.symbol, quote.price, signal_id)

    def resend(self) -> None:
        if self.client.outbox is None or not self.client.outbox.pending():
            return
        report = self.client.resend(max_age=self.options.max_age)
        for sent in report.sent:
            logger.info("resent %s: signal %s", sent.idempotency_key, sent.id)
        for key in report.expired:
            logger.warning("dropped %s: older than %gs", key, self.options.max_age)


def _env(name: str, default: str) -> str:
    return os.environ.get(f"STRATEGY_{name}") or default


def _number(kind: type, env: str, *, zero: bool = False):
    """An argparse type: a number of `kind`, above 0 (or at least 0), naming its option and
    variable when wrong."""
    names = f"--{env.lower().replace('_', '-')} or STRATEGY_{env}"

    def convert(text: str):
        try:
            value = kind(text)
            finite = math.isfinite(value)
        except (ValueError, ArithmeticError):
            raise argparse.ArgumentTypeError(f"{text!r} is not a number ({names})") from None
        if not finite or value < 0 or (value == 0 and not zero):
            raise argparse.ArgumentTypeError(
                f"{text!r} must be a number {'of 0 or more' if zero else 'above 0'} ({names})"
            )
        return value

    return convert


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m examples.strategy", description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    # String defaults from the environment go through the same checks as the options.
    add("--symbols", default=_env("SYMBOLS", "BTC-USDT,ETH-USDT"), help="comma separated")
    add("--interval", type=_number(float, "INTERVAL"), default=_env("INTERVAL", "1"), help="seconds between polls")
    add("--fast", type=_number(int, "FAST"), default=_env("FAST", "5"), help="fast average, in samples")
    add("--slow", type=_number(int, "SLOW"), default=_env("SLOW", "20"), help="slow average, in samples")
    add("--qty", type=_number(Decimal, "QTY"), default=_env("QTY", "0.01"), help="suggested quantity")
    add(
        "--threshold",
        type=_number(Decimal, "THRESHOLD", zero=True),
        default=_env("THRESHOLD", "0.00005"),
        help="relative band (0.0001=1bp)",
    )
    add(
        "--cooldown",
        type=_number(float, "COOLDOWN", zero=True),
        default=_env("COOLDOWN", "30"),
        help="seconds between signals per symbol",
    )
    add("--max-age", type=_number(float, "MAX_AGE"), default="300", help="outbox signals older than this are dropped")
    add("--max-signals", type=_number(int, "MAX_SIGNALS"), help="stop after sending this many")
    args = parser.parse_args(argv)
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    if not symbols:
        parser.error("no symbol to watch: --symbols or STRATEGY_SYMBOLS, e.g. BTC-USDT,ETH-USDT")
    if args.fast >= args.slow:
        parser.error(f"the fast average ({args.fast}) must be shorter than the slow one ({args.slow})")
    return Options(
        symbols=symbols,
        interval=args.interval,
        fast=args.fast,
        slow=args.slow,
        qty=args.qty,
        threshold=args.threshold,
        cooldown=args.cooldown,
        max_age=args.max_age,
        max_signals=args.max_signals,
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    options = parse(argv)
    # A strategy should not stall on a desk that is down: a short retry budget, then the outbox.
    try:
        client = TradeDeskClient.from_env(retry=Retry(attempts=5, base_delay=0.5, max_delay=5, deadline=20))
    except ValueError as exc:  # API_KEY or API_BASE_URL missing or malformed: say which, no traceback
        logger.error("%s", exc)
        return 2
    paper = os.environ.get("PAPER_BASE_URL") or f"{client.base_url}/paper"
    strategy = Strategy(client, PriceFeed(paper), options)
    # SIGTERM (rundesk stopping, docker stop) ends the loop after the current step.
    signal.signal(signal.SIGTERM, lambda *_: strategy.stopping.set())
    try:
        strategy.run()
    except KeyboardInterrupt:
        pass
    logger.info("%s stopped after %d signal(s)", NAME, len(strategy.sent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
