from datetime import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def num(value) -> str:
    """A Decimal as a trader reads it: no trailing zeros, no exponent, thousands grouped."""
    if value is None or value == "":
        return ""
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)  # what the user typed, shown back with the field's error
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = f"{int(whole.lstrip('-') or 0):,}"
    return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"


@register.filter
def plain(value) -> str:
    """A Decimal for an input field: no trailing zeros, no grouping (what the form parses back)."""
    if value is None or value == "":
        return ""
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    return format(value.normalize(), "f") if value.is_finite() else str(value)


@register.filter
def seconds_until(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return max(int((moment - timezone.now()).total_seconds()), 0)


@register.filter
def seconds_since(moment: datetime | None) -> int:
    return max(int((timezone.now() - moment).total_seconds()), 0) if moment else 0


@register.filter
def duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


@register.filter
def quote(symbol: str) -> str:
    """BTC/USDT -> USDT: the currency a cost is in."""
    return symbol.partition("/")[2]


@register.simple_tag(takes_context=True)
def desk_role(context) -> str | None:
    """The viewing user's desk role (viewer, trader, admin) or None, for the shared page header."""
    from tradedesk import roles

    request = context.get("request")
    return roles.role_of(request.user) if request is not None else None
