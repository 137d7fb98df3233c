"""One ccxt exchange instance per account per process, built from the account's config.

ccxt's sync classes keep a requests session, the loaded markets and the rate limiter's state
on the instance, so an account reuses one instance (markets loaded once, the rate limiter sees
every call). They are not thread-safe: every use holds the instance's lock. An instance is
keyed by a fingerprint of everything it was built from (exchange id, base URL, sandbox, keys),
so changed keys or addresses get a fresh instance, and by process id, so a forked worker never
shares its parent's sockets. The fingerprint is a hash held in memory only; secrets are never
logged.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from types import ModuleType

import ccxt
from django.conf import settings

from executor.connectors.base import AccountConfig

logger = logging.getLogger(__name__)

_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]+", re.IGNORECASE)


@dataclass
class Pooled:
    exchange: ccxt.Exchange
    lock: threading.RLock = field(default_factory=threading.RLock)
    markets_loaded_at: float = 0.0  # time.monotonic() of the last load_markets, 0 = never


_pool: dict[tuple[int, str], Pooled] = {}
_pool_lock = threading.Lock()


def base_url_of(config: AccountConfig) -> str:
    """Where the account's calls go: its base URL; for a ccxt account at the venue "paper" with
    none, the bundled paper exchange's dialect of that exchange (PAPER_BASE_URL/binance), so a
    paper account never reaches the real exchange by accident; else the exchange's own hosts."""
    if config.base_url:
        return config.base_url
    if config.venue == "paper":
        return f"{settings.PAPER_BASE_URL.rstrip('/')}/{config.exchange_id.strip().lower()}"
    return ""


def fingerprint(config: AccountConfig) -> str:
    secrets = config.secrets
    text = "\0".join(
        [
            config.exchange_id,
            base_url_of(config),
            str(config.sandbox),
            secrets.get("api_key", ""),
            secrets.get("api_secret", ""),
            secrets.get("passphrase", ""),
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def pooled(config: AccountConfig) -> Pooled:
    key = (os.getpid(), f"{config.key}|{fingerprint(config)}")
    with _pool_lock:
        found = _pool.get(key)
        if found is None:
            found = _pool[key] = Pooled(build(config))
    # Settings may change at run time (tests, a reloaded worker): the bound follows them.
    found.exchange.timeout = int(settings.CCXT_TIMEOUT * 1000)
    return found


def pool_clear() -> None:
    """Forget every instance (tests that change an instance's clock or keys in place)."""
    with _pool_lock:
        _pool.clear()


def build(config: AccountConfig, *, family: ModuleType = ccxt) -> ccxt.Exchange:
    """The account's ccxt instance: of ccxt's sync classes, or of `family` (ccxt.pro, whose
    async classes also watch the venue's streams), configured the same way."""
    exchange_id = config.exchange_id.strip().lower()
    if exchange_id not in family.exchanges:
        raise ValueError(f"ccxt knows no exchange {exchange_id!r} (account {config.label})")
    secrets = config.secrets
    exchange = getattr(family, exchange_id)(
        {
            "apiKey": secrets.get("api_key", ""),
            "secret": secrets.get("api_secret", ""),
            "password": secrets.get("passphrase", ""),
            # ccxt waits between calls as the exchange's published limits require.
            "enableRateLimit": True,
            "timeout": int(settings.CCXT_TIMEOUT * 1000),
        }
    )
    _spot_only(exchange)
    if config.sandbox:
        exchange.set_sandbox_mode(True)
    base_url = base_url_of(config)
    if base_url:
        point_at(exchange, base_url)
    return exchange


def _spot_only(exchange: ccxt.Exchange) -> None:
    """The desk trades spot: ask only for spot markets, and skip the currencies call (it needs
    endpoints outside the spot API on several exchanges, and the desk reads no currency data)."""
    options = exchange.options
    options["defaultType"] = "spot"
    options["fetchCurrencies"] = False
    fetch_markets = options.get("fetchMarkets")
    if isinstance(fetch_markets, dict) and "types" in fetch_markets:
        options["fetchMarkets"] = {**fetch_markets, "types": ["spot"]}
    elif isinstance(fetch_markets, list):
        options["fetchMarkets"] = ["spot"]
    if exchange.id == "binance":
        # Binance: margin pairs come from /sapi (not part of the spot REST API), and an
        # open-orders listing without a symbol is allowed (it costs more weight; the desk
        # asks for it only in the account check and the open-orders list).
        options["fetchMargins"] = False
        options["warnOnFetchOpenOrdersWithoutSymbol"] = False


def point_at(exchange: ccxt.Exchange, base_url: str) -> None:
    """Send every API call to `base_url` instead of the exchange's host, keeping each endpoint's
    path: Binance's https://api.binance.com/api/v3 becomes <base_url>/api/v3, and its WebSocket
    API wss://ws-api.binance.com:443/ws-api/v3 becomes <base_url>/ws-api/v3 (ws:// for an http
    base, wss:// for https). Used for the paper exchange's Binance dialect, or an exchange
    reached through a proxy."""
    base = base_url.rstrip("/")
    socket_base = re.sub(r"^http", "ws", base, count=1, flags=re.IGNORECASE)

    def rebase(value, onto: str):
        if isinstance(value, str):
            return _ORIGIN.sub(onto, value, count=1)
        if isinstance(value, dict):
            return {name: rebase(item, socket_base if name == "ws" else onto) for name, item in value.items()}
        return value

    exchange.urls["api"] = rebase(exchange.urls["api"], base)


def markets(entry: Pooled, *, reload: bool = False) -> dict:
    """The instance's markets, loaded once and again after CCXT_MARKETS_TTL (caller holds the lock)."""
    stale = time.monotonic() - entry.markets_loaded_at > settings.CCXT_MARKETS_TTL
    if reload or stale or not entry.exchange.markets:
        entry.exchange.load_markets(reload=True)
        entry.markets_loaded_at = time.monotonic()
    return entry.exchange.markets
