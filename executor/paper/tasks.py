"""Celery tasks of the paper exchange."""

from celery import shared_task

from executor.paper import services


@shared_task(name="paper.match_open_orders", ignore_result=True)
def match_open_orders() -> int:
    """Fill resting limit orders the mark has crossed; pages and API calls also do it on each request."""
    return services.paper_match_open_orders()
