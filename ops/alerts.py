"""Alerts to people: apprise URLs from ALERT_URLS (email, Telegram, Slack...), off when unset.

One incident sends one message: `send_alert` claims (event, key) in the cache for
ALERT_DEDUP_SECONDS first, and only the caller that claims it sends. With Redis the cache is
shared by every process, so a failing worker and the web server agree on who sends. When the
cache itself is down (Redis is part of many outages) each process falls back to its own memory,
so the outage is still reported, once per process and window, instead of not at all.

`resolve_alert` closes an incident: if an alert for (event, key) went out, it sends one
"resolved" message and forgets the claim, so the next failure is reported at once.

The functions at the bottom are the desk's alerts, one per kind of failure; their keys decide
what counts as one incident. This module is below the apps: it imports none of them, and an
app's own alerts live in that app (orders.alerts: failed orders, orders needing review).
"""

import logging
import threading
import time

import apprise
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

_local_claims: dict[str, float] = {}
_local_lock = threading.Lock()


def send_alert(*, event: str, key: str, title: str, body: str) -> bool:
    """Send once per (event, key) within the dedup window; True when a message went out."""
    urls = settings.ALERT_URLS
    if not urls:
        logger.info("alert %s %s (no ALERT_URLS): %s", event, key, title)
        return False
    if not _claim(_cache_key(event, key)):
        logger.info("alert %s %s already sent in this window", event, key)
        return False
    return _notify(event=event, key=key, title=title, body=body)


def resolve_alert(*, event: str, key: str, title: str, body: str) -> bool:
    """Close the incident (event, key): one "resolved" message, only if an alert had gone out."""
    if not settings.ALERT_URLS or not _release(_cache_key(event, key)):
        return False
    return _notify(event=event, key=key, title=f"Resolved: {title}", body=body)


def _cache_key(event: str, key: str) -> str:
    return f"alert:{event}:{key}"


def _claim(name: str) -> bool:
    now = time.monotonic()
    with _local_lock:
        claimed_here = _local_claims.get(name, 0) > now
    try:
        claimed = bool(cache.add(name, time.time(), timeout=settings.ALERT_DEDUP_SECONDS))
    except Exception as exc:  # the shared cache is down: deduplicate in this process instead
        logger.warning("alert dedup cache unavailable (%s); deduplicating in this process", exc)
        if claimed_here:
            return False
        with _local_lock:
            _local_claims[name] = now + settings.ALERT_DEDUP_SECONDS
        return True
    if claimed_here:
        # Sent from this process while the cache was down; now the cache knows it too.
        return False
    if claimed:
        _forget(f"{name}:resolved")
    return claimed


def _release(name: str) -> bool:
    """True for exactly one caller per incident: the one that announces its end."""
    with _local_lock:
        had = _local_claims.pop(name, None) is not None
    try:
        had = bool(cache.delete(name)) or had  # delete is atomic: one process finds the claim
        # A claim made in a process's memory during a cache outage is not in the cache, so two
        # processes may both have had it: the first to add this marker announces the recovery.
        return had and bool(cache.add(f"{name}:resolved", 1, timeout=settings.ALERT_DEDUP_SECONDS))
    except Exception as exc:
        logger.warning("alert dedup cache unavailable (%s)", exc)
        return had


def _forget(name: str) -> None:
    try:
        cache.delete(name)
    except Exception:
        logger.debug("could not delete %s from the cache", name, exc_info=True)


def _notify(*, event: str, key: str, title: str, body: str) -> bool:
    notifier = apprise.Apprise()
    for url in settings.ALERT_URLS:
        notifier.add(url)
    try:
        sent = bool(notifier.notify(title=f"[TradeDesk {settings.DESK_ENV}] {title}", body=body))
    except Exception:  # a broken notifier must never break the order or check that raised the alert
        logger.exception("alert %s %s could not be sent", event, key)
        return False
    log = logger.warning if sent else logger.error
    log("alert %s %s sent=%s: %s", event, key, sent, title)
    return sent


# The desk's alerts.

SESSION_NEEDS_PERSON = "session_needs_person"
NOT_READY = "not_ready"


def alert_session_state(*, account_id: int, label: str, state: str, detail: str) -> bool:
    """A browser session changed state: captcha or logged out needs a person; logged in again
    resolves both."""
    if state in ("captcha", "needs_login"):
        what = "a captcha to be solved" if state == "captcha" else "a login"
        return send_alert(
            event=SESSION_NEEDS_PERSON,
            key=f"{account_id}:{state}",
            title=f"Exchange account {label} needs {what}",
            body=(
                f"The browser session of exchange account {label} is '{state}': {detail}\n"
                f"Orders to this account fail until a person logs in: "
                f"manage.py executor_login {label} (or docker compose exec browser-worker python manage.py "
                f"executor_login {label})."
            ),
        )
    if state == "logged_in":
        resolved = False
        for was in ("captcha", "needs_login"):
            resolved |= resolve_alert(
                event=SESSION_NEEDS_PERSON,
                key=f"{account_id}:{was}",
                title=f"Exchange account {label} is logged in again",
                body=f"The browser session of exchange account {label} is logged in again.",
            )
        return resolved
    return False


def alert_readiness(*, checks: dict[str, dict]) -> None:
    """Open an incident for every failing readiness check (database, broker, worker or beat
    silent...) and resolve the ones that pass again. The browser session is left out: its own
    alert (`alert_session_state`) is sent where the state is recorded, with what to do."""
    for name, check in checks.items():
        if name == "browser" or check.get("starting"):
            # "starting": no heartbeat yet from a desk that has just started (ops.health): not an
            # incident until it has lasted HEARTBEAT_MAX_AGE.
            continue
        if check["ok"]:
            resolve_alert(
                event=NOT_READY,
                key=name,
                title=f"{name} is healthy again",
                body=f"Readiness check '{name}' passes again: {check.get('detail', '')}",
            )
        else:
            send_alert(
                event=NOT_READY,
                key=name,
                title=f"{name} failing: {check.get('detail', '')}"[:200],
                body=(
                    f"Readiness check '{name}' fails: {check.get('detail', '')}\n"
                    f"See the README, 'Operating the desk', for what it means and what to do."
                ),
            )
