"""Readiness: can this desk take and place orders right now?

Each check answers (ok, detail). They run side by side on a small thread pool with one deadline
(READYZ_TIMEOUT), so a server that does not answer (a stopped PostgreSQL behind a pool that
waits, a firewalled Redis) turns into a failed check within the deadline instead of a probe
that hangs.

Workers and beat are judged by heartbeats, passed down a chain: beat sends `ops.tasks.heartbeat`
to the worker every HEARTBEAT_EVERY seconds and writes the time it sent it; the worker writes the
time it ran it and, when a browser account is active, passes one on to the browser worker, which
writes its own (see ops.tasks). A heartbeat older than HEARTBEAT_MAX_AGE means that process is
silent (dead, stuck, or cut off from Redis), unless the one before it in the chain went silent
first.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections

from executor.models import ConnectorKind, ExchangeAccount
from following import watch

logger = logging.getLogger(__name__)

BEAT = "beat"


def heartbeat_key(component: str) -> str:
    return f"ops:heartbeat:{component}"


def worker_component(queue: str) -> str:
    return f"worker:{queue}"


def _missing_key(component: str) -> str:
    return f"ops:heartbeat-missing:{component}"


def record_heartbeat(component: str, **extra) -> None:
    cache.set(heartbeat_key(component), {"at": time.time(), **extra}, timeout=None)
    cache.delete(_missing_key(component))


def missing_for(component: str) -> float:
    """Seconds since a check first found no heartbeat at all from `component` (0 the first time).
    A desk that has just started has none yet: that is only an outage once it lasts."""
    now = time.time()
    cache.add(_missing_key(component), now, timeout=None)
    since = cache.get(_missing_key(component)) or now
    return max(0.0, now - since)


def heartbeat_age(component: str) -> float | None:
    """Seconds since the component's last heartbeat; None when it never sent one."""
    value = cache.get(heartbeat_key(component))
    return None if not value else max(0.0, time.time() - value["at"])


def check_database() -> tuple[bool, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return True, connection.vendor


def check_broker() -> tuple[bool, str]:
    url = settings.CELERY_BROKER_URL
    if url.startswith("memory://"):
        return True, "in-process (embedded)"
    client = redis.Redis.from_url(url, socket_timeout=settings.READYZ_TIMEOUT, socket_connect_timeout=2)
    try:
        client.ping()
        depth = {queue: client.llen(queue) for queue in ("celery", settings.BROWSER_QUEUE)}
    finally:
        client.close()
    return True, "redis; queued tasks: " + ", ".join(f"{queue}={n}" for queue, n in depth.items())


def check_cache() -> tuple[bool, str]:
    cache.set("ops:readyz", 1, timeout=30)
    if cache.get("ops:readyz") != 1:
        return False, "a value written to the cache could not be read back"
    return True, settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]


class _LayerLoop:
    """One event loop, in its own thread, for the channel layer round trip: the Redis layer
    keeps its connections per event loop, so every check reuses this one."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def run(self, coroutine, timeout: float):
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="readyz-layer", daemon=True).start()
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)


_layer_loop = _LayerLoop()


def check_channel_layer() -> tuple[bool, str]:
    layer = get_channel_layer()

    async def round_trip() -> dict:
        channel = await layer.new_channel("readyz.")
        await layer.send(channel, {"type": "readyz.ping"})
        return await layer.receive(channel)

    message = _layer_loop.run(asyncio.wait_for(round_trip(), settings.READYZ_TIMEOUT), settings.READYZ_TIMEOUT + 1)
    if message.get("type") != "readyz.ping":
        return False, f"the layer returned {message!r}"
    return True, type(layer).__name__


def _browser_accounts() -> list:
    return list(
        ExchangeAccount.objects.filter(is_active=True, connector=ConnectorKind.BROWSER).select_related("venue_session")
    )


def _heartbeat_check(component: str, what: str, upstream: str | None) -> tuple[bool, str]:
    """Fresh enough, or silent only because `upstream` (who sends this component its
    heartbeats: beat for the worker, the worker for the browser worker) went silent first."""
    age = heartbeat_age(component)
    if age is None:
        waited = missing_for(component)
        if waited <= settings.HEARTBEAT_MAX_AGE:
            # Not ready, but no alert yet: a desk that has just started sends its first heartbeats
            # within HEARTBEAT_EVERY seconds (see ops.alerts.alert_readiness).
            detail = f"no heartbeat from {what} yet (beat sends one every {settings.HEARTBEAT_EVERY:g}s)"
            return False, detail, {"starting": True}
        return False, f"no heartbeat from {what} in the {waited:.0f}s since the desk first looked (not running?)"
    if age > settings.HEARTBEAT_MAX_AGE:
        upstream_age = heartbeat_age(upstream) if upstream else None
        upstream_silent = upstream_age is not None and upstream_age > settings.HEARTBEAT_MAX_AGE
        if upstream_silent and age < upstream_age + settings.HEARTBEAT_EVERY / 2:
            # It ran the last heartbeat it was sent: the silence is upstream's (its own check
            # reports it), not this one's.
            return True, f"ran the last heartbeat it was sent ({age:.0f}s ago); {upstream} is silent"
        # Dead, stuck, cut off from Redis, or that far behind its queue: orders wait either way.
        return False, f"{what} silent for {age:.0f}s (limit {settings.HEARTBEAT_MAX_AGE}s; dead, stuck or behind)"
    return True, f"last heartbeat {age:.0f}s ago"


def browser_worker_needed() -> bool:
    return bool(_browser_accounts())


def check_worker() -> tuple[bool, str]:
    return _heartbeat_check(worker_component("celery"), "the worker (queue celery)", BEAT)


def check_browser_worker() -> tuple[bool, str]:
    try:
        needed = browser_worker_needed()
    except Exception:  # the database check reports the database; still judge the heartbeat
        needed = True
    if not needed:
        return True, "no active browser account"
    queue = settings.BROWSER_QUEUE
    return _heartbeat_check(worker_component(queue), f"the browser worker (queue {queue})", worker_component("celery"))


def check_beat() -> tuple[bool, str]:
    return _heartbeat_check(BEAT, "beat", None)


def check_follow_watch() -> tuple[bool, str]:
    """The follow watcher (manage.py follow_watch) is optional: beat polls every master without
    it. Once it has run, its silence is an outage (a master's trades copied seconds later) until
    it is stopped on purpose, which clears its heartbeat."""
    try:
        found = watch.watcher_heartbeat()
    except Exception:  # the cache check reports the cache; one outage, one alert
        return True, "unknown while the cache is unreachable (the cache check reports it)"
    if found is None:
        return True, "not running (optional: beat's poll reads every master)"
    age = max(0.0, time.time() - found["at"])
    limit = max(3 * settings.FOLLOW_WATCH_REFRESH, settings.HEARTBEAT_MAX_AGE)
    if age > limit:
        return False, f"the follow watcher silent for {age:.0f}s (limit {limit:.0f}s; dead or stuck)"
    return True, f"refreshed {age:.0f}s ago: {found['streams']} master stream(s), {found['polls']} polled"


def check_browser() -> tuple[bool, str]:
    """Every active browser account's last recorded session: a captcha or a lost login needs a
    person, so the desk is not ready. A browser that is not running is fine: it starts with the
    next order."""
    rows, bad = [], []
    for account in _browser_accounts():
        session = getattr(account, "venue_session", None)
        state = session.state if session else "not started"
        rows.append(f"{account.label}: {state}")
        if state in ("captcha", "needs_login"):
            bad.append(f"{account.label}: {state} ({session.detail})")
    if bad:
        return False, "; ".join(bad)
    return True, "; ".join(rows) or "no active browser account"


# A check answers (ok, detail), or (ok, detail, extra) with more fields for its result
# ("starting": True = failing, but too early to alert).
CHECKS: dict[str, Callable[[], tuple]] = {
    "database": check_database,
    "broker": check_broker,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
    "worker": check_worker,
    "browser_worker": check_browser_worker,
    "beat": check_beat,
    "browser": check_browser,
    "follow_watch": check_follow_watch,
}

_pool = ThreadPoolExecutor(max_workers=len(CHECKS) * 2, thread_name_prefix="readyz")


def _run(check: Callable[[], tuple]) -> dict:
    started = time.monotonic()
    extra: dict = {}
    try:
        ok, detail, *more = check()
        extra = more[0] if more else {}
    except Exception as exc:
        ok, detail = False, f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    finally:
        # Give this thread's database connection back (to the pool, on PostgreSQL).
        connections.close_all()
    return {"ok": ok, "detail": detail[:300], "ms": int((time.monotonic() - started) * 1000), **extra}


def readiness(only: list[str] | None = None) -> dict:
    """Run every check (or those named) within READYZ_TIMEOUT; {"ok", "checks": {name: result}}."""
    timeout = settings.READYZ_TIMEOUT
    deadline = time.monotonic() + timeout
    futures = {name: _pool.submit(_run, check) for name, check in CHECKS.items() if not only or name in only}
    checks = {}
    for name, future in futures.items():
        try:
            checks[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            checks[name] = {"ok": False, "detail": f"no answer within {timeout:g}s", "ms": int(timeout * 1000)}
    for name, check in checks.items():
        if not check["ok"]:
            logger.warning("readiness check %s failed: %s", name, check["detail"])
    return {"ok": all(check["ok"] for check in checks.values()), "checks": checks}
