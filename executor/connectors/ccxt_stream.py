"""An account's executions pushed by its exchange, through ccxt.pro (ccxt's async classes).

Binance's User Data Stream (its WebSocket API's `userDataStream.subscribe.signature`) and the
other exchanges ccxt.pro watches: `watch_my_trades` subscribes with the account's keys on its
first call and then answers with each batch of new trades as the venue pushes them. The
instance is built like the account's sync one (ccxt_pool.build: keys, spot only, sandbox, base
URL, so a paper account's stream is the paper exchange's Binance dialect at
<base_url>/ws-api/v3), one per stream, used by the one task that reads it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

import ccxt.pro

from executor.connectors import ccxt_pool
from executor.connectors.base import AccountConfig, Execution, ExecutionStream

logger = logging.getLogger(__name__)

_WATCHES: dict[str, bool] = {}


def watches_trades(exchange_id: str) -> bool:
    """True when ccxt.pro can watch this exchange's account trades (asked once per exchange)."""
    exchange_id = exchange_id.strip().lower()
    if exchange_id not in _WATCHES:
        found = exchange_id in ccxt.pro.exchanges
        _WATCHES[exchange_id] = found and bool(getattr(ccxt.pro, exchange_id)({}).has.get("watchMyTrades"))
    return _WATCHES[exchange_id]


def _execution(trade: dict) -> Execution:
    info = trade.get("info") or {}
    stamp = trade.get("timestamp")
    return Execution(
        symbol=trade["symbol"],
        side=str(trade.get("side") or "").upper(),
        qty=Decimal(str(trade["amount"])),
        price=Decimal(str(trade["price"])),
        exchange_order_id=str(trade.get("order") or ""),
        client_order_id=str(info.get("c") or info.get("clientOrderId") or ""),
        trade_id=str(trade.get("id") or ""),
        time=datetime.fromtimestamp(stamp / 1000, tz=UTC) if stamp else None,
    )


class CcxtExecutionStream(ExecutionStream):
    def __init__(self, config: AccountConfig) -> None:
        self.config = config
        self.key = ccxt_pool.fingerprint(config)
        self._exchange: ccxt.pro.Exchange | None = None

    def _instance(self) -> ccxt.pro.Exchange:
        if self._exchange is None:
            self._exchange = ccxt_pool.build(self.config, family=ccxt.pro)
        return self._exchange

    async def connect(self) -> None:
        exchange = self._instance()
        await exchange.load_markets()
        if exchange.id == "binance":
            # The WebSocket API's userDataStream.subscribe.signature, answered once the venue took
            # it; watch_my_trades then finds the subscription made. Other exchanges' streams
            # subscribe on the first watch_my_trades (their authenticate calls differ).
            await exchange.authenticate({"type": "spot"})

    async def next(self) -> list[Execution]:
        trades = await self._instance().watch_my_trades()
        return [_execution(trade) for trade in trades]

    async def close(self) -> None:
        exchange, self._exchange = self._exchange, None
        if exchange is not None:
            try:
                await exchange.close()
            except Exception:
                logger.debug("%s: closing the stream's connection failed", self.config.label, exc_info=True)
