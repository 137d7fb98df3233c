from django.db.models import QuerySet

from orders.models import Order


def order_list() -> QuerySet[Order]:
    """Every desk order: the desk is one book that all staff watch."""
    return Order.objects.select_related("created_by")
