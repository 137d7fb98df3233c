from celery import shared_task

from signals.services import signal_expire


@shared_task
def expire_signals() -> int:
    """Beat: cancel PENDING signals past SIGNAL_MAX_AGE."""
    return len(signal_expire())
