import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from orders import selectors, services
from tradedesk.logging import log_context

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90)
def place_order(order_id: int) -> None:
    """Place one desk order. Idempotent: a re-delivered message never places twice."""
    with log_context(order_id=order_id):
        services.order_place(order_id=order_id)


@shared_task(soft_time_limit=120, time_limit=150)
def reconcile_orders() -> None:
    """Settle orders left SUBMITTING or UNKNOWN after a crash or a lost reply (beat, periodic)."""
    # A placement still inside its task time limit may simply be running: leave it alone.
    stuck_before = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)
    for order_id in selectors.order_ids_to_reconcile(stuck_before=stuck_before):
        with log_context(order_id=order_id):
            try:
                services.order_reconcile(order_id=order_id)
            except Exception:
                logger.exception("reconciling order %s failed; it is tried again next run", order_id)
