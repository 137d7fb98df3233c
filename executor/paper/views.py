"""The paper exchange's pages: login (password, then TOTP), trade, orders, account.

Placing an order works in two steps, as on many exchanges: a confirmation dialog, then the
order. Without script both are plain POSTs: the order form posts to the trade page, which answers
with the dialog; its confirm button posts again with confirmed=1, the order is placed and the
browser is redirected back to the trade page, which shows the outcome (POST-redirect-GET). With
the page's script (paper.js) the dialog is drawn in the browser from the form's values, and the
confirm is one fetch POST (X-Requested-With: fetch) answered with the notice and the parts of the
page the order changed, without a redirect or a reload. See SELECTORS.md for the ids automation
relies on.
"""

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal, localcontext
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.static import serve

from executor.paper import guards, selectors, services
from executor.paper.errors import DuplicateClientOrderId, LoginFailed, OrderNotOpen, PaperNotFound
from executor.paper.forms import LoginForm, OrderForm, TotpForm
from executor.paper.models import (
    OPEN_STATUSES,
    FaultKind,
    OrderStatus,
    OrderType,
    PaperAccount,
    PaperInstrument,
    PaperOrder,
)
from executor.paper.services.orders import WIDE_PRECISION, text

logger = logging.getLogger(__name__)

ASSETS_DIR = settings.BASE_DIR / "static" / "paper"
HISTORY_ROWS = 200
CENTS = Decimal("0.01")
# The confirm sent by the page's script: answered with the trade page's changed parts, not a redirect.
FETCH_HEADER = "fetch"
FRAGMENT_HEADER = "X-Paper-Fragment"


@dataclass(frozen=True)
class Notice:
    ok: bool
    code: str
    message: str
    order: PaperOrder | None = None


def _next_url(request: HttpRequest) -> str:
    # Only paths inside the exchange, so the login cannot be used to bounce anywhere else.
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate.startswith("/paper/") and not candidate.startswith("//") and "\\" not in candidate:
        return candidate
    return reverse("paper:home")


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if selectors.session_get(token=guards.session_token(request)) is not None:
        return redirect(_next_url(request))
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            account = services.paper_login_check_password(**form.cleaned_data)
        except LoginFailed as exc:
            error = exc.message
        else:
            response = redirect(reverse("paper:login-2fa") + "?" + urlencode({"next": _next_url(request)}))
            guards.set_pending_login(request, response, account)
            return response
    elif request.method == "POST":
        error = "Enter your username and password."
    return render(request, "paper/login.html", {"form": form, "error": error, "next": _next_url(request)})


@require_http_methods(["GET", "POST"])
def login_2fa_view(request: HttpRequest) -> HttpResponse:
    account = guards.pending_login(request)
    if account is None:
        return redirect("paper:login")
    faults = selectors.faults_active(account=account)
    guards.slow_down(faults)
    challenge = guards.captcha_page(request, faults)
    if challenge is not None:
        return challenge
    form = TotpForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            _, token = services.paper_login_complete(account=account, code=form.cleaned_data["code"])
        except LoginFailed as exc:
            error = exc.message
        else:
            response = redirect(_next_url(request))
            guards.set_session_cookie(request, response, token)
            guards.clear_pending_login(response)
            return response
    elif request.method == "POST":
        error = "Enter the 6-digit code from your authenticator app."
    context = {"form": form, "error": error, "next": _next_url(request), "username": account.username}
    return render(request, "paper/login_2fa.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    session = selectors.session_get(token=guards.session_token(request))
    if session is not None:
        services.paper_logout(session=session)
    response = redirect("paper:login")
    guards.clear_session_cookie(response)
    return response


@require_GET
@guards.paper_page
def home_view(request: HttpRequest) -> HttpResponse:
    first = selectors.instrument_list().first()
    if first is None:
        return redirect("paper:orders")
    return redirect("paper:trade", symbol=first.symbol)


def _trade_url(instrument: PaperInstrument, **params: str) -> str:
    url = reverse("paper:trade", kwargs={"symbol": instrument.symbol})
    return f"{url}?{urlencode(params)}" if params else url


def _order_notice(request: HttpRequest, account: PaperAccount) -> Notice | None:
    reference = request.GET.get("order", "")[:30]
    if not reference:
        return None
    try:
        order = selectors.order_get(account=account, order_id=reference)
    except PaperNotFound:
        return None
    if request.GET.get("code") == DuplicateClientOrderId.code:
        return _duplicate_notice(order)
    return _notice_for(order)


def _duplicate_notice(order: PaperOrder) -> Notice:
    message = (
        f"Client order ID {order.client_order_id} was already used by order {order.order_id} "
        f"({order.status}); it was not placed again."
    )
    return Notice(False, DuplicateClientOrderId.code, message, order)


def _notice_for(order: PaperOrder) -> Notice:
    what = f"{order.side} {text(order.qty)} {order.symbol}"
    if order.status == OrderStatus.REJECTED:
        return Notice(False, order.reject_code, order.reject_reason, order)
    if order.status == OrderStatus.FILLED:
        return Notice(True, order.status, f"Filled: {what} at {text(order.avg_price)}.", order)
    if order.status == OrderStatus.NEW:
        return Notice(
            True, order.status, f"Placed: {what} at {text(order.price)}, open until the market reaches it.", order
        )
    if order.status == OrderStatus.PARTIALLY_FILLED:
        message = (
            f"Partly filled: {text(order.filled_qty)} of {what} at {text(order.avg_price)}; "
            f"the rest is open at {text(order.price)}."
        )
        return Notice(True, order.status, message, order)
    if order.status == OrderStatus.EXPIRED:
        filled = f"{text(order.filled_qty)} filled at {text(order.avg_price)}" if order.filled_qty else "nothing filled"
        return Notice(True, order.status, f"Expired: {what}, {filled}; the rest could not fill at once.", order)
    return Notice(True, order.status, f"{order.status.capitalize()}: {what}.", order)


@require_http_methods(["GET", "POST"])
@guards.paper_page
def trade_view(request: HttpRequest, symbol: str) -> HttpResponse:
    instrument = selectors.instrument_get(symbol=symbol)
    if instrument is None:
        raise Http404("no such symbol")
    if instrument.symbol != symbol:
        return redirect("paper:trade", symbol=instrument.symbol)
    account = request.paper_account
    mark = selectors.mark_price(instrument=instrument)
    notice = _order_notice(request, account) if request.method == "GET" else None
    form = OrderForm(request.POST or None, initial={"price": text(mark.price)})
    confirm = None
    if request.method == "POST":
        if not form.is_valid():
            notice = Notice(False, "INVALID", "Check the fields marked below.")
        elif form.cleaned_data["confirmed"]:
            return _place_from_form(request, account, instrument, form.cleaned_data)
        else:
            confirm = _confirmation(form.cleaned_data, mark.price)
    return render(request, "paper/trade.html", _trade_context(request, instrument, mark, form, notice, confirm))


def _from_script(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == FETCH_HEADER


def _trade_update(request: HttpRequest, instrument: PaperInstrument, notice: Notice) -> HttpResponse:
    """The answer to the script's confirm: the notice, the open orders and the balances."""
    account = request.paper_account
    balances = {row.asset: row for row in selectors.balance_list(account=account)}
    context = {
        "instrument": instrument,
        "notice": notice,
        "base_balance": balances.get(instrument.base_asset),
        "quote_balance": balances.get(instrument.quote_asset),
        "open_orders": selectors.order_list_open(account=account, symbol=instrument.symbol),
    }
    response = render(request, "paper/_trade_update.html", context)
    response[FRAGMENT_HEADER] = "trade-update"
    response["Cache-Control"] = "no-store"
    return response


def _confirmation(data: dict, mark: Decimal) -> dict:
    price = data["price"] if data["order_type"] == OrderType.LIMIT else mark
    with localcontext(prec=WIDE_PRECISION):
        return {**data, "estimated_total": (data["qty"] * price).quantize(CENTS)}


def _trade_context(request, instrument, mark, form, notice, confirm) -> dict:
    account = request.paper_account
    layout = request.paper_faults.get(FaultKind.LAYOUT_CHANGED)
    balances = {row.asset: row for row in selectors.balance_list(account=account)}
    return {
        "instrument": instrument,
        "instruments": selectors.instrument_list(),
        "mark": mark,
        "form": form,
        "notice": notice,
        "confirm": confirm,
        "layout_changed": layout is not None and services.paper_fault_fire(fault=layout),
        "base_balance": balances.get(instrument.base_asset),
        "quote_balance": balances.get(instrument.quote_asset),
        "open_orders": selectors.order_list_open(account=account, symbol=instrument.symbol),
    }


def _place_from_form(request, account: PaperAccount, instrument: PaperInstrument, data: dict) -> HttpResponse:
    try:
        order = services.paper_order_place(
            account=account,
            client_order_id=data["client_order_id"] or f"web-{uuid.uuid4().hex[:20]}",
            symbol=instrument.symbol,
            side=data["side"],
            order_type=data["order_type"],
            qty=data["qty"],
            price=data["price"],
        )
    except DuplicateClientOrderId as exc:
        if _from_script(request):
            return _trade_update(request, instrument, _duplicate_notice(exc.order))
        return redirect(_trade_url(instrument, order=exc.order.order_id, code=exc.code))
    if guards.lost_reply(request.paper_faults) is not None:
        return render(request, "paper/lost_reply.html", status=504)
    if _from_script(request):
        return _trade_update(request, instrument, _notice_for(order))
    return redirect(_trade_url(instrument, order=order.order_id))


@require_GET
@guards.paper_page
def orders_view(request: HttpRequest) -> HttpResponse:
    account = request.paper_account
    orders = selectors.order_list(account=account)
    search = request.GET.get("client_order_id", "").strip()[:64]
    if search:
        orders = orders.filter(client_order_id=search)
    context = {
        "open_orders": orders.filter(status__in=OPEN_STATUSES),
        "history": orders.exclude(status__in=OPEN_STATUSES)[:HISTORY_ROWS],
        "search": search,
        "notice": _cancel_notice(request),
    }
    return render(request, "paper/orders.html", context)


def _cancel_notice(request: HttpRequest) -> Notice | None:
    if request.GET.get("canceled"):
        return Notice(True, "CANCELED", f"Order {request.GET['canceled'][:30]} canceled.")
    if request.GET.get("error"):
        return Notice(False, "ORDER_NOT_OPEN", request.GET["error"][:200])
    return None


@require_POST
@guards.paper_page
def order_cancel_view(request: HttpRequest, order_id: str) -> HttpResponse:
    account = request.paper_account
    try:
        order = selectors.order_get(account=account, order_id=order_id)
        services.paper_order_cancel(account=account, order=order)
    except (PaperNotFound, OrderNotOpen) as exc:
        return HttpResponseRedirect(reverse("paper:orders") + "?" + urlencode({"error": exc.message}))
    if guards.lost_reply(request.paper_faults, FaultKind.LOST_CANCEL_REPLY) is not None:
        return render(request, "paper/lost_reply.html", status=504)
    return HttpResponseRedirect(reverse("paper:orders") + "?" + urlencode({"canceled": order.order_id}))


@require_GET
@guards.paper_page
def trades_view(request: HttpRequest) -> HttpResponse:
    account = request.paper_account
    symbol = request.GET.get("symbol", "").strip()[:20]
    trades = selectors.trade_list(account=account, symbol=symbol or None)[:HISTORY_ROWS]
    context = {"trades": trades, "symbol": symbol, "instruments": selectors.instrument_list()}
    return render(request, "paper/trades.html", context)


@require_GET
@guards.paper_page
def account_view(request: HttpRequest) -> HttpResponse:
    account = request.paper_account
    instruments = {instrument.symbol: instrument for instrument in selectors.instrument_list()}
    positions = []
    for position in selectors.position_list(account=account):
        instrument = instruments.get(position.symbol)
        mark = selectors.mark_price(instrument=instrument).price if instrument else None
        pnl = (mark - position.avg_price) * position.qty if mark is not None and position.avg_price else None
        positions.append(
            {"row": position, "mark": mark, "pnl": pnl.quantize(Decimal("0.01")) if pnl is not None else None}
        )
    context = {"balances": selectors.balance_list(account=account), "positions": positions}
    return render(request, "paper/account.html", context)


@require_GET
def asset_view(request: HttpRequest, name: str) -> HttpResponse:
    # Served by the exchange itself, so its pages work under any server (uvicorn serves no
    # static files) with no CDN and no collectstatic step. One flat folder: no dot-files.
    if name.startswith("."):
        raise Http404("no such asset")
    response = serve(request, name, document_root=ASSETS_DIR)
    response["Cache-Control"] = "max-age=300"
    return response
