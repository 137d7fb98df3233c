"""Venue reads of copy trading: the masters' and followers' positions and the venues' lot sizes.

Reads only: no order is placed here (following/follower_orders.py places them). A browser
account is read through its venue's API connector with the same secrets (the browser reads no
positions), or from the desk's own ledger of its follower orders when it has no API key."""

import hashlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

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


@dataclass
class MasterSnapshot:
    positions: dict[str, Position]
    fingerprint: str


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
    return MasterSnapshot(positions=positions, fingerprint=hashlib.sha256(text.encode()).hexdigest())


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
