import logging

from celery import shared_task

from following import sync

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=110, time_limit=120)
def sync_followers() -> None:
    """One follower sync cycle (Celery beat, every FOLLOW_SYNC_EVERY seconds). Cycles never
    overlap: a cycle that finds another holding the lock records itself skipped and returns."""
    run = sync.follow_sync_cycle()
    logger.info(
        "follower sync %s: %s, %s evaluated, %s unchanged, %s orders, %s errors",
        run.pk, run.outcome, run.followers_synced, run.followers_skipped, run.orders_placed, run.errors,
    )  # fmt: skip
