"""The orders board's actions on one order: cancel, refresh from the venue, resolve a review.

Thin views on the same services as the API and admin; each answers with the order's row (or
the review form / the order's detail in the dialog), or a flash message naming the refusal.
"""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_POST

from orders import lifecycle, services
from orders.models import Order
from tradedesk.access import trader_required
from tradedesk.exceptions import ApplicationError
from tradedesk.pages import flash as _flash
from tradedesk.pages import page_context as _context


def _row(request: HttpRequest, order_id: int) -> HttpResponse:
    rows = Order.objects.select_related("signal", "created_by", "follow_settings__user")
    order = get_object_or_404(rows, pk=order_id)
    return render(request, "desk/_order_row.html", _context(request, order=order))


@require_POST
@trader_required
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        services.order_cancel(order_id=order_id, user=request.user)
    except ApplicationError as exc:
        return _flash(request, exc.message, status=exc.http_status)
    return _row(request, order_id)


@require_POST
@trader_required
def order_refresh(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        lifecycle.order_refresh_request(order_id=order_id)
    except ApplicationError as exc:
        return _flash(request, exc.message, status=exc.http_status)
    return _row(request, order_id)


class ResolveForm(forms.Form):
    placed = forms.TypedChoiceField(
        choices=[("yes", "Placed: the venue has this order"), ("no", "Not placed: the venue does not have it")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    exchange_order_id = forms.CharField(required=False, max_length=128, label="Venue order id (if placed)")
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


@require_http_methods(["GET", "POST"])
@trader_required
def order_resolve(request: HttpRequest, order_id: int) -> HttpResponse:
    """GET: the review form with the evidence. POST: the trader's word, then the order's detail."""
    order = get_object_or_404(Order.objects.select_related("exchange_account"), pk=order_id)
    form = ResolveForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_valid():
        try:
            lifecycle.order_resolve_review(order_id=order.pk, user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            status = exc.http_status
        else:
            order.refresh_from_db()
            history = order.history.select_related("history_user").order_by("-history_date", "-history_id")[:50]
            return render(request, "desk/_order_detail.html", _context(request, order=order, history=history))
    elif request.method == "POST":
        status = 422
    return render(request, "desk/_order_review.html", _context(request, order=order, form=form), status=status)
