"""The follower's own notifications (seed 000, next step 3): each user chooses where to (an apprise
URL of their own, an email address) and for which events (a copied trade, a failure, a pause, a
resume). The operator's alerts (ops/alerts.py, ALERT_URLS) are separate and unchanged.

Sending never happens inside a transaction and never in the sync's threads: the event is queued
after commit (`notify_on_commit`) as a Celery task on the regular queue, which reads the user's
settings then and sends through apprise. A failure to send is logged, never raised: a follower's
broken webhook must not fail an order or a sync.

Email goes through the desk's own mail server, FOLLOW_NOTIFY_EMAIL_URL (an apprise mailto:// or
mailtos:// URL without a recipient); the user's address is added as its `to=`. Without it, email
is not offered (the API answers 400 naming `email`).
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

import apprise
from celery import signature
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from executor import crypto
from following.models import FollowerNotifySettings, NotifyEvent
from tradedesk.exceptions import InvalidInput
from tradedesk.formatting import decimal_text

logger = logging.getLogger(__name__)

MAX_URL_LENGTH = 1000


def notify_settings_get(*, user: User) -> FollowerNotifySettings | None:
    return FollowerNotifySettings.objects.filter(user=user).first()


def notify_channels(row: FollowerNotifySettings | None) -> dict[str, str]:
    """The decrypted channels: {"apprise_url": ..., "email": ...} (missing when not set)."""
    if row is None:
        return {}
    return crypto.decrypt(row.channels_encrypted)


def masked_channels(row: FollowerNotifySettings | None) -> dict[str, str]:
    """What a page or the API may show of the channels: the URL's scheme and its last 4 characters,
    the address's domain."""
    channels = notify_channels(row)
    shown = {"apprise_url": "", "email": ""}
    if url := channels.get("apprise_url"):
        scheme = url.partition("://")[0]
        shown["apprise_url"] = f"{scheme}://{crypto.mask(url)}"
    if email := channels.get("email"):
        shown["email"] = f"••••@{email.rpartition('@')[2]}"
    return shown


def _check_url(url: str) -> str:
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"must be at most {MAX_URL_LENGTH} characters", field="apprise_url")
    if url and not apprise.Apprise().add(url):
        raise InvalidInput(
            "is not a notification URL apprise knows (e.g. json://host/, tgram://...)", field="apprise_url"
        )
    return url


def _check_email(email: str) -> str:
    email = email.strip()
    if not email:
        return ""
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or any(c in email for c in " /?&#"):
        raise InvalidInput("is not an email address", field="email")
    if not settings.FOLLOW_NOTIFY_EMAIL_URL:
        raise InvalidInput("this desk sends no email (FOLLOW_NOTIFY_EMAIL_URL is not set)", field="email")
    return email


def _check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(NotifyEvent.values))
    if unknown:
        raise InvalidInput(
            f"unknown event(s) {', '.join(unknown)}; choose from {', '.join(NotifyEvent.values)}", field="events"
        )
    return [event for event in NotifyEvent.values if event in events]


def notify_settings_update(
    *, user: User, apprise_url: str | None = None, email: str | None = None, events: list[str] | None = None
) -> FollowerNotifySettings:
    """Set the caller's own channels and events; a field left out (None) keeps its value, an empty
    string removes that channel. Only ever the caller's own row: there is no user argument to
    name someone else."""
    changes: dict[str, str] = {}
    if apprise_url is not None:
        changes["apprise_url"] = _check_url(apprise_url)
    if email is not None:
        changes["email"] = _check_email(email)
    chosen = _check_events(events) if events is not None else None
    with transaction.atomic():
        row, _ = FollowerNotifySettings.objects.select_for_update().get_or_create(user=user)
        channels = {**notify_channels(row), **changes}
        row.channels_encrypted = crypto.encrypt({name: value for name, value in channels.items() if value})
        if chosen is not None:
            row.events = chosen
        row._change_reason = f"changed by {user.get_username()} (channels: {', '.join(sorted(changes)) or 'kept'})"
        row.save()
    logger.info("notification settings of user %s changed (%s)", user.pk, ", ".join(sorted(changes)) or "events")
    return row


# Queued by name (a Celery signature): following.tasks imports the sync, which imports this module.
SEND_TASK = "following.tasks.send_follower_notification"


def notify_on_commit(*, user_id: int, event: str, title: str, body: str) -> None:
    """Queue one notification to the user once the current transaction commits (at once outside
    one). Nothing is read or sent here: the task checks whether the user wants this event."""
    task = signature(SEND_TASK, args=(user_id, event, title, body))
    transaction.on_commit(lambda: task.apply_async())


_known = threading.local()


def wants(*, user_id: int, event: str) -> bool:
    """Whether the user has a channel and chose this event (one cheap query, or none inside
    `wants_known` for its users)."""
    known = getattr(_known, "answers", None)
    if known is not None and user_id in known[0]:
        return event in known[1].get(user_id, ())
    row = FollowerNotifySettings.objects.filter(user_id=user_id).only("events", "channels_encrypted").first()
    return bool(row and row.channels_encrypted and event in row.events)


def wants_of(*, user_ids: list[int]) -> tuple[frozenset[int], dict[int, frozenset[str]]]:
    """`wants` for many users in one query: (the users asked, the events of those with a channel)."""
    rows = FollowerNotifySettings.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "events", "channels_encrypted"
    )
    return frozenset(user_ids), {user_id: frozenset(events) for user_id, events, channels in rows if channels}


@contextmanager
def wants_known(answers: tuple[frozenset[int], dict[int, frozenset[str]]]) -> Iterator[None]:
    """Within the block, in this thread, `wants` answers from `answers` (`wants_of`) for their
    users: the sync reads its followers' choices once per cycle instead of once per copied
    order. A choice changed during the cycle counts from the next one; the notification task
    checks the event again before sending anything."""
    before = getattr(_known, "answers", None)
    _known.answers = answers
    try:
        yield
    finally:
        _known.answers = before


def follower_notify(*, user_id: int, event: str, title: str, body: str) -> bool:
    """Send the notification to the user's channels if they chose the event. True when it went
    out; False when not wanted or when sending failed (logged)."""
    row = FollowerNotifySettings.objects.filter(user_id=user_id).first()
    if row is None or event not in row.events:
        return False
    try:
        urls = _urls(notify_channels(row))
    except crypto.CredentialsUnreadable:
        logger.error("notification settings of user %s cannot be decrypted; nothing sent", user_id)
        return False
    if not urls:
        return False
    notifier = apprise.Apprise()
    for url in urls:
        notifier.add(url)
    try:
        sent = bool(
            notifier.notify(title=f"[TradeDesk] {title}", body=f"{body}\n({timezone.now():%Y-%m-%d %H:%M:%S} UTC)")
        )
    except Exception:
        logger.exception("notification %s to user %s could not be sent", event, user_id)
        return False
    # The URLs are secrets: the log names the user and the event only.
    (logger.info if sent else logger.warning)("notification %s to user %s sent=%s", event, user_id, sent)
    return sent


def _urls(channels: dict[str, str]) -> list[str]:
    urls = [channels["apprise_url"]] if channels.get("apprise_url") else []
    if channels.get("email") and settings.FOLLOW_NOTIFY_EMAIL_URL:
        base = settings.FOLLOW_NOTIFY_EMAIL_URL
        separator = "&" if urlsplit(base).query else "?"
        urls.append(f"{base}{separator}{urlencode({'to': channels['email']})}")
    return urls


# The events, as copy trading raises them.


def notify_trade_error(*, user_id: int, error_type: str, message: str, paused: bool, master: str) -> None:
    """A trade error: one message, a pause when it paused following (and the user chose pause),
    else a failure."""
    if paused and wants(user_id=user_id, event=NotifyEvent.PAUSE):
        notify_on_commit(
            user_id=user_id,
            event=NotifyEvent.PAUSE,
            title=f"Copy trading of {master} paused: {error_type}",
            body=f"{message}\nResolve the error on /follow/ to resume following.",
        )
    elif wants(user_id=user_id, event=NotifyEvent.FAILURE):
        notify_on_commit(
            user_id=user_id,
            event=NotifyEvent.FAILURE,
            title=f"Copy trade failed ({master}): {error_type}",
            body=message,
        )


def notify_resumed(*, user_id: int, master: str) -> None:
    if wants(user_id=user_id, event=NotifyEvent.RESUME):
        notify_on_commit(
            user_id=user_id,
            event=NotifyEvent.RESUME,
            title=f"Copy trading of {master} resumed",
            body="The last unresolved trade error was resolved; following again.",
        )


def notify_copied_trade(order) -> None:
    """orders' hook for an accepted follower order (registered in following.apps): queued after
    the order's result commits, only for users who chose the event."""
    if order.follow_settings_id is None or not wants(user_id=order.created_by_id, event=NotifyEvent.COPIED_TRADE):
        return
    filled = order.filled_qty if order.filled_qty is not None else None
    price = f" @ {decimal_text(order.avg_fill_price)}" if order.avg_fill_price else ""
    what = f"{order.side} {decimal_text(order.qty)} {order.symbol}"
    done = f"filled {decimal_text(filled)}{price}" if filled else "accepted by the venue"
    notify_on_commit(
        user_id=order.created_by_id,
        event=NotifyEvent.COPIED_TRADE,
        title=f"Copied: {what}",
        body=f"Order #{order.pk} {what} on your account: {done}.",
    )
