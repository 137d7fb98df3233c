"""Venue reads of copy trading: the masters' and followers' positions and the venues' lot sizes.

Reads only: no order is placed here (following/follower_orders.py places them). A browser
account is read through its venue's API connector with the same secrets (the browser reads no
positions), or from the desk's own ledger of its follower orders when it has no API key."""

import hashlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection

from executor.connectors import API_CONNECTORS, get_connector
from executor.connectors.base import AccountConfig, Instrument, Position
from executor.models import ExchangeAccount
from executor.selectors import connector_for
from following import selectors

logger = logging.getLogger(__name__)

_INSTRUMENTS_TTL = 300.0
_instruments_cache: dict[tuple[str, str], tuple[float, dict[str, Instrument]]] = {}
_instruments_lock = threading.Lock()
# One read per venue at a time: threads that miss the cache together wait for it (a fresh
# worker's sixteen threads read it sixteen times). A read slower than this is not waited for.
_INSTRUMENTS_WAIT = 10.0
_instruments_reading: dict[tuple[str, str], threading.Lock] = {}


@dataclass
class MasterSnapshot:
    positions: dict[str, Position]
    fingerprint: str
    account: ExchangeAccount | None = None
    # Read once per cycle for however many followers ask: the master's last prices and equity.
    _prices: dict[str, Decimal | None] = field(default_factory=dict, repr=False)
    _equity: list = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def price(self, symbol: str) -> Decimal | None:
        """The master's fill price for the slippage guard and the notional caps: the fill price of
        the master's desk order that queued this sync when known, else the venue's last price on
        the master's venue (a master's market order fills there), else its average entry."""
        with self._lock:
            if symbol not in self._prices:
                found = last_price(self.account, symbol) if self.account is not None else None
                position = self.positions.get(symbol)
                self._prices[symbol] = found or (position.avg_price if position else None)
            return self._prices[symbol]

    def know_prices(self, prices: dict[str, str]) -> None:
        """Prices known without a venue read (the master's own fill, or a read handed over by
        another task): `price` answers them as they are."""
        with self._lock:
            for symbol, value in prices.items():
                self._prices.setdefault(symbol, Decimal(value) if value is not None else None)

    def known_prices(self) -> dict[str, str | None]:
        with self._lock:
            return {symbol: str(value) if value is not None else None for symbol, value in self._prices.items()}

    def equity(self) -> Decimal | None:
        with self._lock:
            if not self._equity:
                self._equity.append(equity(self.account) if self.account is not None else None)
            return self._equity[0]


def master_snapshots(accounts: list[ExchangeAccount], *, threads: int) -> dict[int, MasterSnapshot | Exception]:
    """Every master's positions, read at the same time: a slow master delays no other master."""
    if len(accounts) == 1 or threads <= 0:
        return {account.pk: _master_snapshot_or_error(account) for account in accounts}

    def in_thread(account: ExchangeAccount) -> MasterSnapshot | Exception:
        try:
            return _master_snapshot_or_error(account)
        finally:
            connection.close()  # this pool thread's connection, if the ledger needed one

    with ThreadPoolExecutor(max_workers=min(len(accounts), threads)) as pool:
        return dict(zip([a.pk for a in accounts], pool.map(in_thread, accounts), strict=True))


def master_snapshot_started(account: ExchangeAccount) -> Future:
    """The master's positions read in a thread of its own (a venue round trip) while the caller
    reads the database; the future's result is the snapshot or the error, as master_snapshots."""

    def in_thread() -> MasterSnapshot | Exception:
        try:
            return _master_snapshot_or_error(account)
        finally:
            connection.close()  # this thread's connection, if the ledger needed one

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="master-read")
    try:
        return pool.submit(in_thread)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its read


def _master_snapshot_or_error(account: ExchangeAccount) -> MasterSnapshot | Exception:
    try:
        return master_snapshot(account)
    except Exception as exc:
        return exc


def master_snapshot(account: ExchangeAccount) -> MasterSnapshot:
    if not account.is_active:
        # Deactivated by an admin: its followers wait (unpaused) until it is active again.
        raise RuntimeError(f"exchange account {account.pk} is deactivated")
    positions = {p.symbol: p for p in read_positions(account) if p.qty}
    text = ";".join(f"{symbol}={positions[symbol].qty.normalize()}" for symbol in sorted(positions))
    return MasterSnapshot(positions=positions, fingerprint=hashlib.sha256(text.encode()).hexdigest(), account=account)


def _reader_config(account: ExchangeAccount) -> tuple[str, AccountConfig]:
    """How to read an account: its own connector, or for a browser account the venue's API
    connector with the same secrets (the browser reads no positions)."""
    config = account.config()
    if account.connector == "browser" and account.venue in API_CONNECTORS:
        return "api", config
    return account.connector, config


def read_positions(account: ExchangeAccount) -> list[Position]:
    kind, config = _reader_config(account)
    if kind == "api" and account.connector == "browser" and not config.secrets.get("api_key"):
        return selectors.ledger_positions(account_id=account.pk)
    if kind == account.connector:
        return connector_for(account).get_positions()
    return get_connector(kind, config).get_positions()


def _reader(account: ExchangeAccount):
    kind, config = _reader_config(account)
    return connector_for(account) if kind == account.connector else get_connector(kind, config)


def last_price(account: ExchangeAccount, symbol: str) -> Decimal | None:
    try:
        return _reader(account).last_price(symbol)
    except Exception as exc:
        logger.warning("last price of %s on account %s unavailable: %s", symbol, account.pk, exc)
        return None


def equity(account: ExchangeAccount, *, quote: str = "USDT") -> Decimal | None:
    """The account's equity in `quote`: its quote balance plus every position at the last price.
    None when the venue cannot say (no balances, or a position without a price)."""
    try:
        reader = _reader(account)
        balances = reader.get_balances()
        positions = read_positions(account)
    except Exception as exc:
        logger.warning("equity of account %s unavailable: %s", account.pk, exc)
        return None
    cash = sum((b.free + b.locked for b in balances if b.asset == quote), Decimal("0"))
    if not balances:
        return None
    total = cash
    for position in positions:
        if position.symbol.split("/")[0] == quote or not position.qty:
            continue
        price = last_price(account, position.symbol) or position.avg_price
        if price is None:
            return None
        total += position.qty * price
    return total


class InstrumentsUnavailable(Exception):
    """The venue publishes lot sizes but could not be asked, and none are known from before."""


def instruments_for(account: ExchangeAccount, *, strict: bool = False) -> dict[str, Instrument]:
    """The venue's lot sizes and minimums, cached per venue and address for a few minutes.

    When the venue cannot be asked, the last known ones are used however old; with none known,
    `strict` raises InstrumentsUnavailable (the sync then orders nothing rather than guess a lot
    the venue would refuse), else {} (the status page's estimate)."""
    kind, config = _reader_config(account)
    key = (kind, f"{config.venue}|{config.exchange_id}|{config.sandbox}|{config.base_url or settings.PAPER_BASE_URL}")
    with _instruments_lock:
        cached = _instruments_cache.get(key)
        if cached and time.monotonic() - cached[0] < _INSTRUMENTS_TTL:
            return cached[1]
        reading = _instruments_reading.setdefault(key, threading.Lock())
    waited = reading.acquire(timeout=_INSTRUMENTS_WAIT)
    try:
        with _instruments_lock:
            cached = _instruments_cache.get(key)
            if cached and time.monotonic() - cached[0] < _INSTRUMENTS_TTL:
                return cached[1]  # read by the thread this one waited for
        return _instruments_read(account, kind, config, key, cached, strict=strict)
    finally:
        if waited:
            reading.release()


def _instruments_read(account: ExchangeAccount, kind: str, config: AccountConfig, key: tuple, cached, *, strict: bool):
    try:
        if kind == "ccxt":
            # ccxt: the account's own (pooled) exchange instance, which knows its exchange id and testnet.
            found = connector_for(account)
        else:
            public = AccountConfig(label="instruments", venue=config.venue, base_url=config.base_url)
            found = get_connector(kind, public)
        instruments = found.instruments()
    except Exception as exc:
        logger.warning("instruments of %s unavailable: %s", key, exc)
        if cached:
            return cached[1]
        if strict:
            raise InstrumentsUnavailable(f"the venue's lot sizes could not be read: {exc}") from exc
        return {}
    with _instruments_lock:
        _instruments_cache[key] = (time.monotonic(), instruments)
    return instruments


def instruments_cache_clear() -> None:
    with _instruments_lock:
        _instruments_cache.clear()
