from datetime import datetime
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone

from tradedesk import formatting, roles
from tradedesk.symbols import split_symbol

register = template.Library()


@register.filter
def num(value, places=None) -> str:
    """A Decimal as a trader reads it: no trailing zeros, no exponent, thousands grouped;
    `|num:2` rounds to 2 decimals first (the venue's tick), `|num:""` leaves it as is."""
    places = int(places) if places not in (None, "") else None
    return formatting.number(value, places)


@register.filter
def stamp(moment: datetime | None) -> str:
    """The pages' one time format, with its zone: 2026-12-01 21:55:17 UTC."""
    return formatting.time_text(moment)


@register.filter
def iso(moment: datetime | None) -> str:
    return formatting.iso_time(moment)


@register.filter
def plain(value) -> str:
    """A Decimal for an input field: no trailing zeros, no grouping (what the form parses back)."""
    if value is None or value == "":
        return ""
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    return formatting.decimal_text(value)


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
    return split_symbol(symbol)[1]


@register.simple_tag(takes_context=True)
def desk_role(context) -> str | None:
    """The viewing user's desk role (viewer, trader, admin) or None, for the shared page header."""
    request = context.get("request")
    return roles.role_of(request.user) if request is not None else None
