"""The staff desk pages: the live signal queue, the confirm-and-order form, the orders board.

Thin views: parse input, check the role (tradedesk.access), call one service or selector, render.
Every write goes through the same services as the API and admin.
"""

import logging
import secrets
import time

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from desk import selectors
from desk.forms import BULK_ACCEPT, BulkDecisionForm, OrderFilterForm, OrderForm, RejectForm, SignalFilterForm
from orders import services as order_services
from orders.models import Order, OrderType
from signals import services as signal_services
from signals.models import Signal, SignalStatus
from tradedesk import roles
from tradedesk.access import trader_required, viewer_required
from tradedesk.exceptions import ApplicationError, Conflict
from tradedesk.formatting import decimal_text
from tradedesk.pages import flash as _flash
from tradedesk.pages import page_context as _context

logger = logging.getLogger(__name__)

NONCE_SECONDS = 3600
NONCE_WAIT_SECONDS = 5.0


def _with_deadlines(signals) -> list[Signal]:
    rows = list(signals)
    for signal in rows:
        signal.deadline = signal_services.signal_deadline(signal)
    return rows


# --- pages -----------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Staff land on the signals queue; a follower without a desk role on the copy-trading dashboard."""
    if roles.role_of(request.user) is None:
        return redirect("following:dashboard")
    return redirect("desk:signals")


def _with_current(choices: dict[str, list[str]], **current: str | None) -> dict[str, list[str]]:
    """The filter menus with the value in use, even when no row has it now (a bookmarked filter,
    or the last such signal just left the queue): the menu must show the filter the table obeys."""
    for name, value in current.items():
        if value and value not in choices[name]:
            choices[name] = sorted([*choices[name], value])
    return choices


def _signal_filters(request: HttpRequest) -> tuple[SignalFilterForm, dict]:
    form = SignalFilterForm(request.GET)
    return form, (form.cleaned_data if form.is_valid() else {})


@require_GET
@viewer_required
def signals_page(request: HttpRequest) -> HttpResponse:
    form, filters = _signal_filters(request)
    signals = _with_deadlines(selectors.signal_queue(**filters)[: selectors.QUEUE_LIMIT])
    context = _context(
        request,
        form=form,
        signals=signals,
        choices=_with_current(
            selectors.signal_queue_choices(), symbols=filters.get("symbol"), strategies=filters.get("strategy")
        ),
        query=request.GET.urlencode(),
        limit=selectors.QUEUE_LIMIT,
        conflicts=selectors.signal_conflicts(**filters),
    )
    return render(request, "desk/signals.html", context, status=200 if form.is_valid() else 400)


@require_GET
@viewer_required
def signal_rows(request: HttpRequest) -> HttpResponse:
    """The queue's rows with the page's filters: the page re-syncs with this after a reconnect."""
    form, filters = _signal_filters(request)
    signals = _with_deadlines(selectors.signal_queue(**filters)[: selectors.QUEUE_LIMIT])
    return render(request, "desk/_signal_rows.html", _context(request, signals=signals))


@require_GET
@viewer_required
def signal_net(request: HttpRequest) -> HttpResponse:
    """The net of opposite BUY/SELL signals per symbol (the panel over the queue; live)."""
    _, filters = _signal_filters(request)
    return render(request, "desk/_signal_net.html", {"conflicts": selectors.signal_conflicts(**filters)})


@require_GET
@viewer_required
def signal_row(request: HttpRequest, signal_id: int) -> HttpResponse:
    """One queue row as it is now; empty when the signal has left the queue (or the filters)."""
    _, filters = _signal_filters(request)
    signal = selectors.signal_queue(**filters).filter(pk=signal_id).first()
    if signal is None:
        return HttpResponse("")
    return render(request, "desk/_signal_row.html", _context(request, signal=_with_deadlines([signal])[0]))


@require_GET
@viewer_required
def signal_detail(request: HttpRequest, signal_id: int) -> HttpResponse:
    signal = get_object_or_404(Signal.objects.select_related("decided_by"), pk=signal_id)
    signal.deadline = signal_services.signal_deadline(signal)
    context = _context(
        request,
        signal=signal,
        orders=selectors.signal_orders(signal)[:20],
        history=selectors.signal_history(signal)[:50],
    )
    return render(request, "desk/_signal_detail.html", context)


@require_GET
@viewer_required
def signal_chart(request: HttpRequest, signal_id: int) -> JsonResponse:
    """Recent venue prices of the signal's symbol with what to mark on them: the suggested price,
    its orders' limits and its fills. Numbers are strings (Decimal), times Unix seconds (UTC)."""
    signal = get_object_or_404(Signal, pk=signal_id)
    fills = selectors.signal_fills(signal)
    since = min([signal.created_at, *(mark.time for mark in fills)])
    history = selectors.price_history(symbol=signal.symbol, since=since)
    orders = signal.orders.filter(price__isnull=False).order_by("id").values("id", "price", "status")
    return JsonResponse(
        {
            "symbol": signal.symbol,
            "source": history.source,
            "note": history.note,
            "points": [
                {"time": int(moment.timestamp()), "value": decimal_text(price)} for moment, price in history.points
            ],
            "suggest_price": decimal_text(signal.suggest_price),
            "signal_time": int(signal.created_at.timestamp()),
            "side": signal.side,
            "orders": [{"id": o["id"], "limit": decimal_text(o["price"]), "status": o["status"]} for o in orders],
            "fills": [
                {
                    "order_id": mark.order_id,
                    "side": mark.side,
                    "time": int(mark.time.timestamp()),
                    "price": decimal_text(mark.price),
                    "qty": decimal_text(mark.qty),
                }
                for mark in fills
            ],
        }
    )


@require_POST
@trader_required
def signal_accept(request: HttpRequest, signal_id: int) -> HttpResponse:
    try:
        signal = signal_services.signal_decide(signal_id=signal_id, status=SignalStatus.ACCEPTED, user=request.user)
    except ApplicationError as exc:
        return _flash(request, exc.message, status=exc.http_status)
    return _row_after_action(request, signal.pk)


def _row_after_action(request: HttpRequest, signal_id: int) -> HttpResponse:
    signal = selectors.signal_queue().filter(pk=signal_id).first()
    if signal is None:
        return HttpResponse("")
    return render(request, "desk/_signal_row.html", _context(request, signal=_with_deadlines([signal])[0]))


@trader_required
def signal_reject(request: HttpRequest, signal_id: int) -> HttpResponse:
    signal = get_object_or_404(Signal, pk=signal_id)
    if request.method == "GET":
        return render(request, "desk/_reject_form.html", _context(request, signal=signal, form=RejectForm()))
    if request.method != "POST":
        return HttpResponse(status=405)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return render(request, "desk/_reject_form.html", _context(request, signal=signal, form=form), status=422)
    try:
        signal_services.signal_decide(
            signal_id=signal.pk, status=SignalStatus.REJECTED, user=request.user, note=form.cleaned_data["reason"]
        )
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return render(
            request, "desk/_reject_form.html", _context(request, signal=signal, form=form), status=exc.http_status
        )
    response = render(request, "desk/_done.html", {"message": f"Signal {signal.pk} rejected."})
    response["HX-Trigger"] = "desk:closeModal"
    return response


# --- several signals at once ------------------------------------------------------------------


@require_GET
@trader_required
def signal_bulk_reject_form(request: HttpRequest) -> HttpResponse:
    """The one reason for rejecting the chosen rows (the modal)."""
    form = BulkDecisionForm(initial={"action": "reject", "ids": request.GET.get("ids", "")})
    ids = BulkDecisionForm({"action": "reject", "ids": request.GET.get("ids", ""), "reason": "-"})
    if not ids.is_valid():
        return _flash(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in ids.errors.items()), status=400)
    context = _context(request, form=form, signals=Signal.objects.filter(pk__in=ids.cleaned_data["ids"]))
    return render(request, "desk/_bulk_reject_form.html", context)


@require_POST
@trader_required
def signal_bulk_decide(request: HttpRequest) -> HttpResponse:
    """Accept or reject each chosen signal through the same service, role check and audit as one
    by one; a signal that cannot be (already decided, expired, an order in flight) is reported
    and the others still go through."""
    form = BulkDecisionForm(request.POST)
    if not form.is_valid():
        if request.POST.get("action") == "reject" and "reason" in form.errors:
            context = _context(request, form=form, signals=Signal.objects.filter(pk__in=_ids_of(form)))
            return render(request, "desk/_bulk_reject_form.html", context, status=422)
        return _flash(request, "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()), status=400)
    accept = form.cleaned_data["action"] == BULK_ACCEPT
    status = SignalStatus.ACCEPTED if accept else SignalStatus.REJECTED
    done, refused = [], []
    for signal_id in form.cleaned_data["ids"]:
        try:
            signal_services.signal_decide(
                signal_id=signal_id,
                status=status,
                user=request.user,
                note="" if accept else form.cleaned_data["reason"],
            )
            done.append(signal_id)
        except ApplicationError as exc:
            refused.append((signal_id, exc.message))
    logger.info("bulk %s by user %s: %s done, %s refused", status, request.user.pk, len(done), len(refused))
    context = {"done": done, "refused": refused, "verb": "accepted" if accept else "rejected"}
    response = render(request, "desk/_bulk_done.html", context)
    response["HX-Retarget"] = "#flash"
    response["HX-Reswap"] = "innerHTML"
    response["HX-Trigger"] = "desk:bulkDone" if accept else "desk:bulkDone, desk:closeModal"
    return response


def _ids_of(form: BulkDecisionForm) -> list[int]:
    return form.cleaned_data.get("ids") or []


# --- the order form --------------------------------------------------------------------------


def _initial(signal: Signal) -> dict:
    return {
        "order_type": OrderType.LIMIT if signal.suggest_price else OrderType.MARKET,
        "price": signal.suggest_price.normalize() if signal.suggest_price else None,
        "qty": signal.suggest_qty.normalize(),
        "nonce": secrets.token_urlsafe(16),
    }


def _form_context(
    request: HttpRequest, signal: Signal, form: OrderForm, error: str = "", values: dict | None = None
) -> dict:
    if values is None:
        values = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else form.initial
    preview = selectors.order_preview(
        signal=signal,
        qty=values.get("qty"),
        order_type=values.get("order_type") or OrderType.LIMIT,
        price=values.get("price"),
    )
    signal.deadline = signal_services.signal_deadline(signal)
    return _context(request, signal=signal, form=form, preview=preview, error=error)


@require_GET
@trader_required
def order_form(request: HttpRequest, signal_id: int) -> HttpResponse:
    signal = get_object_or_404(Signal, pk=signal_id)
    signal_services.signal_expire(signal_id=signal.pk)
    signal.refresh_from_db()
    if not signal.is_orderable:
        return _flash(request, f"Signal {signal.pk} is {signal.status}; it can no longer be ordered.", status=409)
    form = OrderForm(initial=_initial(signal))
    return render(request, "desk/_order_form.html", _form_context(request, signal, form))


@require_GET
@trader_required
def order_preview(request: HttpRequest, signal_id: int) -> HttpResponse:
    signal = get_object_or_404(Signal, pk=signal_id)
    form = OrderForm(request.GET)
    form.is_valid()  # the preview shows what it can from the valid fields
    data = form.cleaned_data
    preview = selectors.order_preview(
        signal=signal,
        qty=data.get("qty"),
        order_type=data.get("order_type") or OrderType.LIMIT,
        price=data.get("price"),
    )
    return render(request, "desk/_order_preview.html", {"preview": preview, "signal": signal})


@require_POST
@trader_required
def order_confirm(request: HttpRequest, signal_id: int) -> HttpResponse:
    signal = get_object_or_404(Signal, pk=signal_id)
    form = OrderForm(request.POST)
    if not form.is_valid():
        return render(request, "desk/_order_form.html", _form_context(request, signal, form), status=422)
    nonce = form.cleaned_data["nonce"]
    key = f"desk:confirm:{request.user.pk}:{nonce}"
    if nonce and not cache.add(key, "pending", NONCE_SECONDS):
        # The same rendering of the form was submitted again (double click, resent request):
        # show the order the first submit made; never create a second one.
        return _repeated_submit(request, signal, key)
    try:
        order = order_services.order_create(
            user=request.user,
            signal_id=signal.pk,
            qty=form.cleaned_data["qty"],
            order_type=form.cleaned_data["order_type"],
            price=form.cleaned_data["price"],
        )
    except ApplicationError as exc:
        cache.delete(key)
        signal.refresh_from_db()
        # Shown again as typed, with the refusal above the button (and no order made).
        fresh = OrderForm(request.POST.copy())
        fresh.data["nonce"] = secrets.token_urlsafe(16)  # a corrected form is a new confirmation
        fresh.is_valid()
        context = _form_context(request, signal, fresh, exc.message, values=form.cleaned_data)
        return render(request, "desk/_order_form.html", context, status=exc.http_status)
    cache.set(key, order.pk, NONCE_SECONDS)
    return _placed(request, order)


def _repeated_submit(request: HttpRequest, signal: Signal, key: str) -> HttpResponse:
    deadline = time.monotonic() + NONCE_WAIT_SECONDS
    value = cache.get(key)
    while value == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)  # the first submit is still inside order_create
        value = cache.get(key)
    order = Order.objects.filter(pk=value).first() if isinstance(value, int) else None
    if order is None:
        exc = Conflict("this confirmation was already sent; check the orders page before you send another")
        return _flash(request, exc.message, status=exc.http_status, level="warning")
    return _placed(request, order, repeated=True)


def _placed(request: HttpRequest, order: Order, repeated: bool = False) -> HttpResponse:
    return render(request, "desk/_order_placed.html", _context(request, order=order, repeated=repeated))


# --- orders ----------------------------------------------------------------------------------


def _order_filters(request: HttpRequest) -> tuple[OrderFilterForm, dict]:
    form = OrderFilterForm(request.GET)
    return form, (form.cleaned_data if form.is_valid() else {})


@require_GET
@viewer_required
def orders_page(request: HttpRequest) -> HttpResponse:
    form, filters = _order_filters(request)
    context = _context(
        request,
        form=form,
        orders=selectors.order_board(**filters)[: selectors.BOARD_LIMIT],
        symbols=_with_current({"symbols": selectors.order_symbols()}, symbols=filters.get("symbol"))["symbols"],
        query=request.GET.urlencode(),
        limit=selectors.BOARD_LIMIT,
    )
    return render(request, "desk/orders.html", context, status=200 if form.is_valid() else 400)


@require_GET
@viewer_required
def order_rows(request: HttpRequest) -> HttpResponse:
    _, filters = _order_filters(request)
    orders = selectors.order_board(**filters)[: selectors.BOARD_LIMIT]
    return render(request, "desk/_order_rows.html", _context(request, orders=orders))


@require_GET
@viewer_required
def order_row(request: HttpRequest, order_id: int) -> HttpResponse:
    _, filters = _order_filters(request)
    order = selectors.order_board(**filters).filter(pk=order_id).first()
    if order is None:
        return HttpResponse("")
    return render(request, "desk/_order_row.html", _context(request, order=order))


@require_GET
@viewer_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = get_object_or_404(
        Order.objects.select_related(
            "signal", "created_by", "exchange_account", "follow_settings__user", "follow_settings__master_user"
        ),
        pk=order_id,
    )
    history = order.history.select_related("history_user").order_by("-history_date", "-history_id")[:50]
    return render(request, "desk/_order_detail.html", _context(request, order=order, history=history))
