"""Desk pages: positions and P&L, the trade journal (with its CSV), strategies, refusals.

Thin views: check the role (viewer and up: desk staff; followers and outsiders get 403), read
through the selectors, render.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from desk.access import viewer_required
from portfolio import selectors
from tradedesk import roles


def _context(request: HttpRequest, **extra) -> dict:
    return {"role": roles.role_of(request.user), "server_now": timezone.now(), **extra}


@require_GET
@viewer_required
def positions_page(request: HttpRequest) -> HttpResponse:
    return render(request, "portfolio/positions.html", _context(request, portfolios=selectors.portfolio_list()))


@require_GET
@viewer_required
def positions_fragment(request: HttpRequest) -> HttpResponse:
    """The accounts' positions as they are now: the page fetches this after each order event."""
    return render(request, "portfolio/_positions.html", _context(request, portfolios=selectors.portfolio_list()))
