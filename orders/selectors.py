from django.conf import settings
from django.db.models import F, Q, QuerySet

from orders.models import OPEN_VENUE_STATES, Order, OrderStatus


def order_list() -> QuerySet[Order]:
    """Every desk order: the desk is one book that all staff watch."""
    return Order.objects.select_related("created_by", "reviewed_by").prefetch_related("fills")


def browser_placements_waiting(*, queue: str) -> bool:
    """Orders at browser accounts of this browser queue (one worker, one task at a time) queued
    for placement whose placement has not started."""
    waiting = Order.objects.filter(
        status=OrderStatus.SUBMITTING, placement_started_at__isnull=True, exchange_account__connector="browser"
    )
    if queue == settings.BROWSER_QUEUE:
        waiting = waiting.filter(Q(exchange_account__browser_queue="") | Q(exchange_account__browser_queue=queue))
    else:
        waiting = waiting.filter(exchange_account__browser_queue=queue)
    return waiting.exists()


def order_ids_to_reconcile(*, stuck_before) -> list[int]:
    """UNKNOWN orders, and SUBMITTING ones older than a placement can take. Orders waiting for a
    person (needs review) are left to that person: no lookup can settle them."""
    stuck = Q(status=OrderStatus.SUBMITTING, created_at__lt=stuck_before)
    unknown = Q(status=OrderStatus.UNKNOWN, needs_review=False)
    return list(Order.objects.filter(stuck | unknown).order_by("id").values_list("id", flat=True))


def order_ids_to_refresh(*, checked_before, browser_checked_before, limit: int) -> list[int]:
    """Accepted orders still open at the venue and not asked since `checked_before` (orders at
    browser accounts: `browser_checked_before`), never-asked and longest-unasked first."""
    browser = Q(exchange_account__connector="browser")
    due = (
        Q(last_checked_at__isnull=True)
        | (~browser & Q(last_checked_at__lt=checked_before))
        | (browser & Q(last_checked_at__lt=browser_checked_before))
    )
    rows = Order.objects.filter(due, status=OrderStatus.SUCCESS, venue_state__in=OPEN_VENUE_STATES)
    return list(rows.order_by(F("last_checked_at").asc(nulls_first=True), "id").values_list("id", flat=True)[:limit])
