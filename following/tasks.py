import logging

from celery import shared_task

from following import sync

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=110, time_limit=120)
def sync_followers() -> None:
    """One follower sync cycle (Celery beat, every FOLLOW_SYNC_EVERY seconds). Cycles never
    overlap: a cycle that finds another holding the lock records itself skipped and returns."""
    run = sync.follow_sync_cycle()
    # A quiet cycle every FOLLOW_SYNC_EVERY seconds would be most of the log: DEBUG unless it did something.
    # (A follower evaluated without an order, e.g. a difference below the venue minimum, is quiet.)
    busy = run.orders_placed or run.errors or run.outcome not in (run.Outcome.OK, run.Outcome.SKIPPED)
    logger.log(
        logging.INFO if busy else logging.DEBUG,
        "follower sync %s: %s, %s evaluated, %s unchanged, %s orders, %s errors",
        run.pk, run.outcome, run.followers_synced, run.followers_skipped, run.orders_placed, run.errors,
    )  # fmt: skip


@shared_task(soft_time_limit=30, time_limit=40)
def send_follower_notification(user_id: int, event: str, title: str, body: str) -> None:
    """A follower's own notification (following.notify), sent after the event's commit."""
    from following.notify import follower_notify

    follower_notify(user_id=user_id, event=event, title=title, body=body)
