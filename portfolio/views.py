"""Desk pages: positions and P&L, the trade journal (with its CSV), strategies, refusals.

Thin views: check the role (viewer and up: desk staff; followers and outsiders get 403), read
through the selectors, render.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from portfolio import journal, selectors
from portfolio.api import journal_csv_response
from portfolio.forms import JournalFilterForm, PeriodForm, RefusalFilterForm, filters_of
from tradedesk import roles
from tradedesk.access import viewer_required


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


JOURNAL_LIMIT = 500
REFUSALS_LIMIT = 200


@require_GET
@viewer_required
def journal_page(request: HttpRequest) -> HttpResponse:
    form = JournalFilterForm(request.GET)
    valid = form.is_valid()
    fills = journal.journal_fills(**filters_of(form)) if valid else journal.journal_fills().none()
    # Newest first on the page (the CSV is oldest first, as a journal is read).
    rows = list(fills.order_by("-time", "-id")[:JOURNAL_LIMIT])
    context = _context(request, form=form, fills=rows, query=request.GET.urlencode(), limit=JOURNAL_LIMIT)
    return render(request, "portfolio/journal.html", context, status=200 if valid else 400)


@require_GET
@viewer_required
def journal_csv(request: HttpRequest) -> HttpResponse:
    form = JournalFilterForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items())
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    return journal_csv_response(journal.journal_fills(**filters_of(form)))


@require_GET
@viewer_required
def strategies_page(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET)
    valid = form.is_valid()
    rows = journal.strategy_summary(**filters_of(form)) if valid else []
    return render(
        request, "portfolio/strategies.html", _context(request, form=form, rows=rows), status=200 if valid else 400
    )


@require_GET
@viewer_required
def refusals_page(request: HttpRequest) -> HttpResponse:
    form = RefusalFilterForm(request.GET)
    valid = form.is_valid()
    refusals = list(selectors.refusal_list(**filters_of(form))[:REFUSALS_LIMIT]) if valid else []
    context = _context(
        request,
        form=form,
        refusals=refusals,
        rules=selectors.refusal_rules(),
        query=request.GET.urlencode(),
        limit=REFUSALS_LIMIT,
    )
    return render(request, "portfolio/refusals.html", context, status=200 if valid else 400)
