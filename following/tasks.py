"""Copy-trading tasks: take ids, call following's functions. The sync runs as one task per
master account and per batch of followers (following/dispatch.py), on the regular queue."""

import logging

from celery import shared_task
from django.conf import settings

from following import dispatch, sync
from following.notify import follower_notify

logger = logging.getLogger(__name__)


def _log_run(run) -> None:
    # A quiet cycle every FOLLOW_SYNC_EVERY seconds would be most of the log: DEBUG unless it did something.
    # (A follower evaluated without an order, e.g. a difference below the venue minimum, is quiet.)
    busy = run.orders_placed or run.errors or run.outcome not in (run.Outcome.OK, run.Outcome.SKIPPED)
    logger.log(
        logging.INFO if busy else logging.DEBUG,
        "follower sync %s: %s, %s evaluated, %s unchanged, %s orders, %s errors",
        run.pk, run.outcome, run.followers_synced, run.followers_skipped, run.orders_placed, run.errors,
    )  # fmt: skip


@shared_task(soft_time_limit=110, time_limit=120)
def sync_followers() -> None:
    """Celery beat, every FOLLOW_SYNC_EVERY seconds: one sync task per master account
    (FOLLOW_SYNC_PER_MASTER, the default), or one cycle of every follower in this task. Cycles
    of one lock never overlap: one that finds another holding it records itself skipped."""
    if settings.FOLLOW_SYNC_PER_MASTER and dispatch.masters_to_sync():
        queued = dispatch.follow_sync_dispatch()
        logger.debug("follower sync: %s master sync(s) queued", queued)
        return
    # No one to follow (or one task for all): the cycle here, which records its SyncRun anyway,
    # so the admin page and the metrics see beat alive.
    _log_run(sync.follow_sync_cycle())


@shared_task(soft_time_limit=110, time_limit=120)
def sync_master(master_id: int, poll: bool = False, prices: dict[str, str] | None = None) -> None:
    """The followers of one master account (beat's poll, or at once when the desk's order on
    the master account is accepted, with its fill prices). A poll finding the master unchanged
    runs no cycle."""
    run = dispatch.follow_sync_master(master_id, poll=poll, prices=prices)
    if run is not None:
        _log_run(run)


@shared_task(soft_time_limit=110, time_limit=120)
def sync_follower_batch(payload: dict, now: str) -> None:
    """A batch of one master's followers, with the master positions its sync read."""
    _log_run(dispatch.follow_sync_batch(payload, now))


@shared_task(soft_time_limit=30, time_limit=40)
def send_follower_notification(user_id: int, event: str, title: str, body: str) -> None:
    """A follower's own notification (following.notify), sent after the event's commit."""
    follower_notify(user_id=user_id, event=event, title=title, body=body)
