from decimal import Decimal

from django import template

from executor.paper.services.orders import text

register = template.Library()


@register.filter
def plain(value: Decimal | None) -> str:
    """A decimal without trailing zeros (65000, 0.1); empty for None."""
    return "" if value is None else text(value)


@register.filter
def add_decimal(value: Decimal, other: Decimal) -> Decimal:
    return value + other
