import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from executor.models import ExchangeAccount
from executor.selectors import api_account_ids, task_queue_for
from orders import lifecycle, selectors, services
from orders.models import Order
from orders.venue_rules import instruments_refresh
from tradedesk.logging import log_context

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90)
def place_order(order_id: int) -> None:
    """Place one desk order. Idempotent: a re-delivered message never places twice."""
    with log_context(order_id=order_id):
        services.order_place(order_id=order_id)


@shared_task(soft_time_limit=120, time_limit=150)
def reconcile_orders() -> None:
    """Settle orders left SUBMITTING or UNKNOWN after a crash or a lost reply (beat, periodic).

    Orders at browser accounts are looked up only by the worker that owns the account: they are
    sent to its queue as `reconcile_order` tasks; the others are settled here."""
    # A placement still inside its task time limit may simply be running: leave it alone.
    stuck_before = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)
    ids = selectors.order_ids_to_reconcile(stuck_before=stuck_before)
    for order_id, queue in _queues(ids).items():
        if queue != "celery":
            reconcile_order.apply_async((order_id,), queue=queue, expires=settings.RECONCILE_EVERY)
            continue
        with log_context(order_id=order_id):
            try:
                services.order_reconcile(order_id=order_id)
            except Exception:
                logger.exception("reconciling order %s failed; it is tried again next run", order_id)


@shared_task(soft_time_limit=60, time_limit=90)
def reconcile_order(order_id: int) -> None:
    with log_context(order_id=order_id):
        services.order_reconcile(order_id=order_id)


@shared_task(soft_time_limit=60, time_limit=90)
def refresh_order(order_id: int, routine: bool = False) -> None:
    """Record where one accepted order is at its venue now (state, fills, fees). `routine`:
    beat's (see lifecycle.order_refresh); a person's Refresh is never put off."""
    with log_context(order_id=order_id):
        lifecycle.order_refresh(order_id=order_id, routine=routine)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=60, time_limit=90)
def cancel_at_venue(order_id: int) -> None:
    """Send a requested cancel to the venue. Safe to re-deliver: a cancel may be repeated."""
    with log_context(order_id=order_id):
        lifecycle.order_cancel_at_venue(order_id=order_id)


@shared_task(soft_time_limit=30, time_limit=45)
def refresh_open_orders() -> int:
    """Beat, every ORDER_REFRESH_EVERY seconds: queue a refresh for the accepted orders still
    open at their venue that were not asked for ORDER_REFRESH_EVERY (browser accounts:
    ORDER_REFRESH_BROWSER_EVERY, since each read is a page load on the worker that also places
    that account's orders), longest unasked first, at most ORDER_REFRESH_BATCH per run, each on
    its account's own queue. The orders are stamped as asked when queued, so a slow worker is not
    sent the same order again every run."""
    now = timezone.now()
    ids = selectors.order_ids_to_refresh(
        checked_before=now - timedelta(seconds=settings.ORDER_REFRESH_EVERY),
        browser_checked_before=now - timedelta(seconds=settings.ORDER_REFRESH_BROWSER_EVERY),
        limit=settings.ORDER_REFRESH_BATCH,
    )
    queues = _queues(ids)
    # A browser worker with orders waiting to be placed gets no refreshes this run (they would
    # give way to the placements anyway, lifecycle.order_refresh, each still a task it takes);
    # they stay due, so the next run queues them.
    busy = {
        queue
        for queue in set(queues.values())
        if queue != task_queue_for(None) and selectors.browser_placements_waiting(queue=queue)
    }
    ids = [order_id for order_id in ids if queues[order_id] not in busy]
    Order.objects.filter(pk__in=ids).update(last_checked_at=now)
    for order_id in ids:
        refresh_order.apply_async(
            (order_id, True), queue=queues[order_id], expires=max(settings.ORDER_REFRESH_EVERY * 4, 30)
        )
    return len(ids)


def _queues(order_ids: list[int]) -> dict[int, str]:
    orders = Order.objects.filter(pk__in=order_ids).select_related("exchange_account").order_by("id")
    return {order.pk: task_queue_for(order.exchange_account) for order in orders}


@shared_task(soft_time_limit=120, time_limit=150)
def refresh_instruments() -> None:
    """Read every API account's trading rules again (beat), for the confirm-time venue checks."""
    for account_id in api_account_ids():
        try:
            instruments_refresh(account=ExchangeAccount.objects.get(pk=account_id))
        except Exception as exc:
            logger.warning("instruments of account %s not refreshed: %s", account_id, exc)
