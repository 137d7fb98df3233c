from django.db.models import Q, QuerySet

from orders.models import Order, OrderStatus


def order_list() -> QuerySet[Order]:
    """Every desk order: the desk is one book that all staff watch."""
    return Order.objects.select_related("created_by")


def order_ids_to_reconcile(*, stuck_before) -> list[int]:
    """UNKNOWN orders, and SUBMITTING ones older than a placement can take."""
    stuck = Q(status=OrderStatus.SUBMITTING, created_at__lt=stuck_before)
    return list(Order.objects.filter(stuck | Q(status=OrderStatus.UNKNOWN)).order_by("id").values_list("id", flat=True))
