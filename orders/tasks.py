import logging

from celery import shared_task

from orders import services

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90)
def place_order(order_id: int) -> None:
    """Place one desk order. Idempotent: a re-delivered message never places twice."""
    services.order_place(order_id=order_id)
