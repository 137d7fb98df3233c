"""Alerts to people: apprise URLs from ALERT_URLS (email, Telegram, Slack...), off when unset.

One incident sends one message: `send_alert` claims (event, key) in the cache for
ALERT_DEDUP_SECONDS first, and only the caller that claims it sends. With Redis the cache is
shared by every process, so a failing worker and the web server agree on who sends.
"""

import logging

import apprise
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def send_alert(*, event: str, key: str, title: str, body: str) -> bool:
    """Send once per (event, key) within the dedup window; True when a message went out."""
    urls = settings.ALERT_URLS
    if not urls:
        logger.info("alert %s %s (no ALERT_URLS): %s", event, key, title)
        return False
    if not cache.add(f"alert:{event}:{key}", 1, timeout=settings.ALERT_DEDUP_SECONDS):
        logger.info("alert %s %s already sent in this window", event, key)
        return False
    notifier = apprise.Apprise()
    for url in urls:
        notifier.add(url)
    sent = bool(notifier.notify(title=f"[TradeDesk] {title}", body=body))
    logger.warning("alert %s %s sent=%s: %s", event, key, sent, title)
    return sent
