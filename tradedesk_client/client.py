"""Post signals to a TradeDesk, safely: one Idempotency-Key per signal, kept on every retry.

Standard library only, so a strategy can use it without Django or the rest of the desk.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import os
import random
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradedesk_client.outbox import Outbox

logger = logging.getLogger("tradedesk_client")

DEFAULT_OUTBOX = "tradedesk-outbox.jsonl"
# Statuses worth another try: the server may be restarting, overloaded or asking us to slow down.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_KEY_LENGTH = 128


class TradeDeskError(Exception):
    """Base of every error the client raises."""


class SignalRejected(TradeDeskError):
    """The desk refused the signal for good (4xx): resending it unchanged cannot help.

    Carries the desk's error body: `code`, `message` and `fields` (field name -> reasons).
    """

    def __init__(self, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        super().__init__(f"{status} {code}: {message}")


class AuthenticationFailed(SignalRejected):
    """401/403: the API key is missing, wrong, revoked or expired, or may not post signals."""


class DeliveryFailed(TradeDeskError):
    """Every attempt failed with a transient error; the signal was written to the outbox.

    `resend()` (or `python -m tradedesk_client resend`) sends it later with the same
    Idempotency-Key, so a signal the desk did receive is never created twice.
    """

    def __init__(self, idempotency_key: str, attempts: int, last_error: str, outbox: Path | None = None) -> None:
        super().__init__(idempotency_key, attempts, last_error)
        self.idempotency_key = idempotency_key
        self.attempts = attempts
        self.last_error = last_error
        self.outbox = outbox

    def __str__(self) -> str:
        where = f"; kept in {self.outbox} for `resend`" if self.outbox else ""
        return f"signal {self.idempotency_key} not sent after {self.attempts} attempts ({self.last_error}){where}"


class _Transient(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Retry:
    """How hard to try before giving up: attempts, and exponential backoff with jitter.

    The n-th wait (n from 0) is a random time between half and all of min(max_delay,
    base_delay * 2**n); a 429 or 503 with Retry-After waits what the server asked (up to
    max_retry_after). Giving up happens after `attempts` tries or once `deadline` seconds
    have passed since the first try, whichever comes first.
    """

    attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    deadline: float | None = 300.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        cap = min(self.max_delay, self.base_delay * 2**attempt)
        return cap / 2 + random.uniform(0, cap / 2)  # noqa: S311 (jitter, not crypto)


@dataclass
class SentSignal:
    """The desk's answer: the signal as stored, and whether this was a replay of an earlier post."""

    id: int
    idempotency_key: str
    replayed: bool
    attempts: int
    data: dict[str, Any] = field(repr=False)


@dataclass
class ResendReport:
    sent: list[SentSignal] = field(default_factory=list)
    rejected: list[tuple[str, SignalRejected]] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    still_pending: list[str] = field(default_factory=list)


def new_idempotency_key(strategy_name: str) -> str:
    """A fresh key for a new signal: the strategy's name (for people reading the desk) and a UUID."""
    prefix = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in strategy_name)[:80]
    return f"{prefix}-{uuid.uuid4().hex}"


def _decimal_text(value: Decimal | int | str | float | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        # Floats print their binary noise (0.1 -> 0.1000000000000000055...); go through repr.
        value = repr(value)
    return format(Decimal(value), "f")


def _retry_after(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class TradeDeskClient:
    """A strategy's connection to the desk.

    >>> client = TradeDeskClient.from_env()          # API_BASE_URL, API_KEY
    >>> client.send_signal(symbol="BTC/USDT", side="BUY", suggest_qty="0.1", suggest_price="65000",
    ...                    strategy_name="mean_reversion_v1", reason="z-score below -2")
    42
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        retry: Retry | None = None,
        outbox: str | os.PathLike | None = DEFAULT_OUTBOX,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        user_agent: str = "tradedesk-client/1.0",
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required (API_BASE_URL, e.g. http://127.0.0.1:8000)")
        if not api_key:
            raise ValueError("api_key is required (API_KEY: a strategy key from `manage.py create_api_key`)")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.retry = retry or Retry()
        self.outbox = Outbox(outbox) if outbox else None
        self._sleep = sleep
        self._clock = clock
        self.user_agent = user_agent

    def __repr__(self) -> str:
        # Never show the key, even in a traceback or a debugger.
        return f"TradeDeskClient(base_url={self.base_url!r})"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **kwargs: Any) -> TradeDeskClient:
        """API_BASE_URL and API_KEY; TRADEDESK_OUTBOX (path, or empty for none) and TRADEDESK_TIMEOUT."""
        environ = os.environ if environ is None else environ
        kwargs.setdefault("outbox", environ.get("TRADEDESK_OUTBOX", DEFAULT_OUTBOX) or None)
        if environ.get("TRADEDESK_TIMEOUT"):
            try:
                kwargs.setdefault("timeout", float(environ["TRADEDESK_TIMEOUT"]))
            except ValueError:
                raise ValueError(f"TRADEDESK_TIMEOUT must be seconds, not {environ['TRADEDESK_TIMEOUT']!r}") from None
        return cls(environ.get("API_BASE_URL", ""), environ.get("API_KEY", ""), **kwargs)

    def send_signal(self, **fields: Any) -> int:
        """Post a signal and return its id. Arguments as for `post_signal`."""
        return self.post_signal(**fields).id

    def post_signal(
        self,
        *,
        symbol: str,
        side: str,
        suggest_qty: Decimal | str | int | float,
        strategy_name: str,
        suggest_price: Decimal | str | int | float | None = None,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> SentSignal:
        """Post a signal; retry transient failures with the same Idempotency-Key.

        Pass your own `idempotency_key` (e.g. strategy, symbol and bar time) to make the post
        safe across restarts of the strategy too. Raises SignalRejected for a permanent refusal
        and DeliveryFailed (after writing the outbox) when the desk could not be reached.
        """
        key = idempotency_key or new_idempotency_key(strategy_name)
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            raise ValueError(f"idempotency_key must be 1 to {MAX_KEY_LENGTH} characters")
        body = {
            "symbol": symbol,
            "side": side,
            "suggest_price": _decimal_text(suggest_price),
            "suggest_qty": _decimal_text(suggest_qty),
            "strategy_name": strategy_name,
            "reason": reason,
        }
        try:
            return self._deliver(key, body)
        except DeliveryFailed as failed:
            if self.outbox is not None:
                self.outbox.add(key=key, body=body, error=failed.last_error)
                failed.outbox = self.outbox.path
            logger.error("signal not sent: %s", failed)
            raise

    def resend(self, *, max_age: float | None = None) -> ResendReport:
        """Send what the outbox holds, each with its original Idempotency-Key, oldest first.

        A signal older than `max_age` seconds is marked expired instead (a stale trading signal
        can do harm). When the desk is still out of reach, the resend stops at the first signal
        that fails again, and that one and the rest stay pending for the next resend.
        """
        report = ResendReport()
        if self.outbox is None:
            return report
        with self.outbox.locked():
            for entry in self.outbox.pending():
                key = entry["key"]
                if report.still_pending:
                    report.still_pending.append(key)
                    continue
                if max_age is not None and entry["age"] > max_age:
                    self.outbox.mark(key, "expired", detail=f"older than {max_age:g}s")
                    report.expired.append(key)
                    continue
                try:
                    sent = self._deliver(key, entry["body"])
                except SignalRejected as rejected:
                    self.outbox.mark(key, "rejected", detail=str(rejected))
                    report.rejected.append((key, rejected))
                except DeliveryFailed as failed:
                    self.outbox.mark(key, "retry_failed", detail=failed.last_error)
                    report.still_pending.append(key)
                else:
                    self.outbox.mark(key, "sent", signal_id=sent.id)
                    report.sent.append(sent)
        return report

    def _deliver(self, key: str, body: dict[str, Any]) -> SentSignal:
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                data, replayed = self._post_once(key, body)
            except _Transient as transient:
                elapsed = self._clock() - started
                delay = self.retry.delay(attempt - 1, transient.retry_after)
                out_of_time = self.retry.deadline is not None and elapsed + delay > self.retry.deadline
                if attempt >= self.retry.attempts or out_of_time:
                    raise DeliveryFailed(key, attempt, transient.reason) from None
                logger.warning(
                    "signal %s: attempt %d failed (%s); retrying in %.1fs", key, attempt, transient.reason, delay
                )
                self._sleep(delay)
                continue
            logger.info("signal %s: desk signal %s%s", key, data["id"], " (replayed)" if replayed else "")
            return SentSignal(id=data["id"], idempotency_key=key, replayed=replayed, attempts=attempt, data=data)

    def _post_once(self, key: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        request = urllib.request.Request(  # noqa: S310 (the desk's own http(s) URL)
            f"{self.base_url}/api/signals",
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-API-KEY": self._api_key,
                "Idempotency-Key": key,
                "User-Agent": self.user_agent,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = response.read()
                replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
        except urllib.error.HTTPError as error:
            raise self._http_error(error) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
            # Refused, reset, DNS, timeout, or a connection closed before the whole answer came:
            # the desk may or may not have the signal; the same key makes the retry safe.
            cause = error.reason if isinstance(error, urllib.error.URLError) else error
            if isinstance(cause, socket.timeout | TimeoutError):
                raise _Transient(f"no answer within {self.timeout:g}s") from None
            raise _Transient(f"{type(cause).__name__}: {cause}") from None
        try:
            data = json.loads(payload)
            int(data["id"])
        except (ValueError, KeyError, TypeError):
            raise _Transient(f"unreadable answer from the desk: {payload[:200]!r}") from None
        return data, replayed

    def _http_error(self, error: urllib.error.HTTPError) -> Exception:
        try:
            raw = error.read()
        except (OSError, http.client.HTTPException):
            raw = b""
        finally:
            error.close()
        if error.code in TRANSIENT_STATUSES or error.code >= 500:
            return _Transient(f"HTTP {error.code}", _retry_after(error.headers.get("Retry-After")))
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        code = str(payload.get("code") or f"http_{error.code}")
        message = str(payload.get("message") or raw[:200].decode(errors="replace") or error.reason)
        fields = payload.get("fields") if isinstance(payload.get("fields"), dict) else {}
        kind = AuthenticationFailed if error.code in (401, 403) else SignalRejected
        return kind(error.code, code, message, fields)
