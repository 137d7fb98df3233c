"""The JSON endpoints (and table fragments) the trade page's script calls.

Answers are `{"success": bool, "code", "message", ...}`. A refusal by the exchange's rules
(balance, an injected reject) is HTTP 200 with success false, as many exchange web APIs
answer; a malformed ticket or a filter failure (lot, tick, minimum) is a 400 naming the field;
an unknown pair 404; no session 401; captcha 403; a lost reply 504 after the hang.
"""

import json
import logging
import uuid

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from executor.paper import guards as paper_guards
from executor.paper import selectors as paper_selectors
from executor.paper import services as paper_services
from executor.paper.errors import OrderNotOpen, PaperNotFound
from executor.paper.models import FaultKind, OrderStatus, PaperAccount, PaperOrder
from executor.paper.pro import display, selectors
from executor.paper.pro.display import Precision
from executor.paper.pro.forms import PlaceForm
from executor.paper.pro.guards import json_error, pro_api

logger = logging.getLogger(__name__)

# Rule failures the site checks like a form validation: HTTP 400 with the field.
FILTER_FIELDS = {
    "BELOW_MIN_QTY": "quantity",
    "INVALID_QTY_STEP": "quantity",
    "INVALID_TICK": "price",
    "BELOW_MIN_NOTIONAL": "quantity",
    "UNKNOWN_SYMBOL": "symbol",
}
SHORT_MESSAGES = {"INSUFFICIENT_BALANCE": "Insufficient balance"}


def toast_text(order: PaperOrder) -> str:
    return f"Order placed · #{order.pk}"


def _refused(
    request: HttpRequest, status: int, code: str, message: str, *, order: PaperOrder | None = None, **extra
) -> JsonResponse:
    """A refusal; with the stale_toast fault the page is also told to show the previous order's toast.

    That is the bug of a real site whose toast component re-renders its last success: the
    answer still says the submit was refused, only the page misleads.
    """
    body = {"success": False, "code": code, "message": message, **extra}
    fault = request.pro_faults.get(FaultKind.STALE_TOAST)
    if fault is not None:
        previous = selectors.previous_order(account=request.pro_account, before=order)
        if previous is not None and paper_services.paper_fault_fire(fault=fault):
            body["toast"] = toast_text(previous)
    return JsonResponse(body, status=status)


def _field_errors(form: PlaceForm) -> tuple[str, str]:
    field, errors = next(iter(form.errors.items()))
    label = {"quantity": "Amount", "price": "Price", "__all__": "Order"}.get(field, field.capitalize())
    return field, f"{label}: {errors[0]}"


@require_POST
@pro_api
def order_place_api(request: HttpRequest) -> HttpResponse:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return _refused(request, 400, "INVALID_REQUEST", "The request body must be a JSON object.")
    form = PlaceForm(body)
    if not form.is_valid():
        field, message = _field_errors(form)
        return _refused(request, 400, "INVALID_PARAMETER", message, field=field)
    data = form.cleaned_data
    instrument = paper_selectors.instrument_get(symbol=data["symbol"])
    if instrument is None:
        return _refused(request, 404, "SYMBOL_NOT_FOUND", "Trading pair not found.", field="symbol")
    order = paper_services.paper_order_place(
        account=request.pro_account,
        # The site keeps the exchange's client order id to itself: it is never shown or sent back.
        client_order_id=f"pro-{uuid.uuid4().hex[:24]}",
        symbol=instrument.symbol,
        side=data["side"],
        order_type=data["type"],
        qty=data["quantity"],
        price=data["price"],
    )
    if order.status == OrderStatus.REJECTED:
        return _rejection(request, order)
    if paper_guards.lost_reply(request.pro_faults) is not None:
        return json_error(504, "GATEWAY_TIMEOUT", "Gateway timeout.")
    logger.info("paper pro order %s placed by %s: %s", order.pk, request.pro_account.username, order.status)
    return JsonResponse(
        {
            "success": True,
            "code": "OK",
            "message": "Order placed",
            "toast": toast_text(order),
            "data": {"orderId": order.pk, "status": order.status},
        }
    )


def _rejection(request: HttpRequest, order: PaperOrder) -> JsonResponse:
    field = FILTER_FIELDS.get(order.reject_code)
    if field is not None:
        return _refused(request, 400, order.reject_code, order.reject_reason, field=field, order=order)
    message = SHORT_MESSAGES.get(order.reject_code, order.reject_reason)
    return _refused(request, 200, order.reject_code, message, order=order)


@require_POST
@pro_api
def order_cancel_api(request: HttpRequest, number: int) -> HttpResponse:
    account: PaperAccount = request.pro_account
    try:
        order = paper_selectors.order_get(account=account, order_id=str(number))
        order = paper_services.paper_order_cancel(account=account, order=order)
    except PaperNotFound:
        return json_error(404, "ORDER_NOT_FOUND", "Order not found.")
    except OrderNotOpen:
        return json_error(409, "ORDER_NOT_OPEN", "This order can no longer be canceled.")
    return JsonResponse(
        {"success": True, "code": "OK", "message": "Order canceled", "toast": f"Order canceled · #{order.pk}"}
    )


@require_GET
@pro_api
def panel_view(request: HttpRequest, tab: str) -> HttpResponse:
    """One tab of the orders panel as an HTML fragment, for the trade page to swap in."""
    raw = request.GET.get("page", "1")
    if tab not in selectors.TABS or not (raw.isdigit() and len(raw) < 7):
        return json_error(400, "INVALID_PARAMETER", "Unknown tab or page.", field="page")
    context = {
        "table": selectors.table_get(account=request.pro_account, tab=tab, page=int(raw)),
        "time_zone": display.TIME_ZONE_LABEL,
    }
    response = render(request, "paper/pro/_table.html", context)
    response["X-Open-Orders"] = str(selectors.open_order_count(account=request.pro_account))
    return response


@require_GET
def ticker_api(request: HttpRequest, pair: str) -> HttpResponse:
    """Public market data, as on any exchange: no session, no faults, and no writes (the page
    polls it, so it must not compete with the order calls for the database)."""
    instrument = paper_selectors.instrument_get(symbol=pair[:20])
    if instrument is None:
        return json_error(404, "SYMBOL_NOT_FOUND", "Trading pair not found.")
    mark = paper_selectors.mark_price(instrument=instrument)
    return JsonResponse(
        {
            "symbol": display.pair_slug(instrument.symbol),
            "price": display.plain(mark.price),
            "display": display.number(mark.price, Precision.of(instrument).price),
        }
    )


@require_GET
@pro_api
def balances_api(request: HttpRequest, pair: str) -> HttpResponse:
    instrument = paper_selectors.instrument_get(symbol=pair[:20])
    if instrument is None:
        return json_error(404, "SYMBOL_NOT_FOUND", "Trading pair not found.")
    precision = Precision.of(instrument)
    balances = {row.asset: row.free for row in paper_selectors.balance_list(account=request.pro_account)}
    return JsonResponse(
        {
            "success": True,
            "data": {
                "base": display.number(balances.get(instrument.base_asset), precision.amount),
                "quote": display.number(balances.get(instrument.quote_asset), precision.price),
            },
        }
    )
