"""What every desk page's views share (the desk's, orders' and positions' pages alike)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tradedesk import roles


def page_context(request: HttpRequest, **extra) -> dict:
    return {
        "can_trade": roles.has_role(request.user, roles.TRADER),
        "role": roles.role_of(request.user),
        "server_now": timezone.now(),
        "max_age": settings.SIGNAL_MAX_AGE,
        **extra,
    }


def flash(request: HttpRequest, message: str, *, status: int, level: str = "error") -> HttpResponse:
    """An action's refusal, shown in the page's message area whatever the action targeted."""
    response = render(request, "desk/_flash.html", {"message": message, "level": level}, status=status)
    response["HX-Retarget"] = "#flash"
    response["HX-Reswap"] = "innerHTML"
    return response
